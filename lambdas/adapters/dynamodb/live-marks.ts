/**
 * The live index's filter, and the marking of records written before the
 * index existed. A record gets and loses its live mark in the same write
 * as its state (marshal.ts); records an older bilbo wrote carry none, and
 * would be missing from every live list: once per table, the first live
 * list finds no note that they were marked, marks every live one (one pass
 * over byKind) and writes the note. After that, one read of the note per
 * process.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mapBounded } from '../../domain/bounded.ts';
import type { Clock } from '../../domain/ports.ts';
import { type Item, LIVE_MARK } from './marshal.ts';
import { queryAll } from './query-all.ts';
import { BY_KIND_INDEX, CLUSTER_KIND, LIVE_MARKED_KEY, PARTITION_KEY, SORT_KEY } from './table-design.ts';

/** Older records marked at once, the one time a table needs it. */
const MARK_CONCURRENCY = 8;

interface Condition {
  expression: string;
  names: Record<string, string>;
  values: Record<string, string>;
}

/** A record not DESTROYED or FAILED; with `unmarked`, one that carries no live mark as well. */
function liveCondition(options: { unmarked?: boolean } = {}): Condition {
  const live: Condition = {
    expression: 'NOT (#state IN (:destroyed, :failed))',
    names: { '#state': 'state' },
    values: { ':destroyed': 'DESTROYED', ':failed': 'FAILED' },
  };
  if (!options.unmarked) return live;
  return {
    expression: `attribute_not_exists(#live) AND ${live.expression}`,
    names: { ...live.names, '#live': LIVE_MARK },
    values: live.values,
  };
}

/**
 * The Query, keeping live records only. On the live index that drops
 * nothing, unless an older bilbo ended a record during an upgrade (it did
 * not remove the mark).
 */
export function liveOnly(input: QueryCommandInput, options: { unmarked?: boolean } = {}): QueryCommandInput {
  const condition = liveCondition(options);
  return {
    ...input,
    FilterExpression: condition.expression,
    ExpressionAttributeNames: { ...input.ExpressionAttributeNames, ...condition.names },
    ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ...condition.values },
  };
}

/** Marks the live records an older bilbo wrote, unless the table's note says that was done. */
export async function markOlderRecords(
  client: DynamoDBDocumentClient,
  tableName: string,
  clock: Clock,
): Promise<void> {
  const { Item: note } = await client.send(
    new GetCommand({ TableName: tableName, Key: LIVE_MARKED_KEY, ConsistentRead: true }),
  );
  if (note) return;
  const everyCluster: QueryCommandInput = {
    TableName: tableName,
    IndexName: BY_KIND_INDEX.indexName,
    KeyConditionExpression: '#kind = :kind',
    ExpressionAttributeNames: { '#kind': BY_KIND_INDEX.partitionKey.name },
    ExpressionAttributeValues: { ':kind': CLUSTER_KIND },
    ProjectionExpression: `${PARTITION_KEY.name}, ${SORT_KEY.name}`,
  };
  const keys = await queryAll(client, liveOnly(everyCluster, { unmarked: true }));
  await mapBounded(keys, MARK_CONCURRENCY, (key) => markLive(client, tableName, key));
  await client.send(
    new PutCommand({
      TableName: tableName,
      Item: { ...LIVE_MARKED_KEY, markedAt: clock.now().toISOString() },
    }),
  );
}

/** The mark alone, on a record (by its key) still live and unmarked: no version, no event, nothing a reader sees. */
async function markLive(client: DynamoDBDocumentClient, tableName: string, key: Item): Promise<void> {
  const unmarked = liveCondition({ unmarked: true });
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET #live = :live',
        ConditionExpression: unmarked.expression,
        ExpressionAttributeNames: unmarked.names,
        ExpressionAttributeValues: { ...unmarked.values, ':live': CLUSTER_KIND },
      }),
    );
  } catch (error) {
    // It ended, or was marked, since the Query read it.
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
