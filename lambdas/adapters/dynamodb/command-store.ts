/**
 * The CommandStore on DynamoDB: each command is one item beside its
 * cluster's (`CLUSTER#<id>` / `COMMAND#<command id>`), the record whole in
 * one attribute, so the byKind and byName indexes never see it. A record
 * changes only while it is RUNNING: a condition of the write.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { CommandRecord } from '../../../schemas/types.generated.ts';
import type { CommandStore } from '../../domain/ports.ts';
import { COMMAND_SK_PREFIX, EVENT_RETENTION_DAYS } from './table-design.ts';

export interface DynamoDbCommandStoreDeps {
  client: DynamoDBDocumentClient;
  tableName: string;
}

const DEFAULT_LIMIT = 20;

export class DynamoDbCommandStore implements CommandStore {
  constructor(private readonly deps: DynamoDbCommandStoreDeps) {}

  async putCommand(command: CommandRecord): Promise<void> {
    await this.deps.client.send(
      new PutCommand({
        TableName: this.deps.tableName,
        Item: itemOf(command),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getCommand(clusterId: string, id: string): Promise<CommandRecord | undefined> {
    const answer = await this.deps.client.send(
      new GetCommand({ TableName: this.deps.tableName, Key: keyOf(clusterId, id), ConsistentRead: true }),
    );
    return answer.Item?.command as CommandRecord | undefined;
  }

  async listCommands(clusterId: string, options: { limit?: number } = {}): Promise<CommandRecord[]> {
    const answer = await this.deps.client.send(
      new QueryCommand({
        TableName: this.deps.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `CLUSTER#${clusterId}`, ':prefix': COMMAND_SK_PREFIX },
        ScanIndexForward: false,
        Limit: options.limit ?? DEFAULT_LIMIT,
        ConsistentRead: true,
      }),
    );
    return (answer.Items ?? []).map((item) => item.command as CommandRecord);
  }

  async updateCommand(command: CommandRecord): Promise<boolean> {
    try {
      await this.deps.client.send(
        new PutCommand({
          TableName: this.deps.tableName,
          Item: itemOf(command),
          ConditionExpression: '#command.#state = :running',
          ExpressionAttributeNames: { '#command': 'command', '#state': 'state' },
          ExpressionAttributeValues: { ':running': 'RUNNING' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function keyOf(clusterId: string, id: string): { pk: string; sk: string } {
  return { pk: `CLUSTER#${clusterId}`, sk: `${COMMAND_SK_PREFIX}${id}` };
}

function itemOf(command: CommandRecord) {
  const expiresAt = Math.floor(Date.parse(command.createdAt) / 1000) + EVENT_RETENTION_DAYS * 24 * 3600;
  return { ...keyOf(command.clusterId, command.id), command, expiresAt };
}
