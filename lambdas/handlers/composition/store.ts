import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbClusterStore } from '../../adapters/dynamodb/cluster-store.ts';
import { DynamoDbCommandStore } from '../../adapters/dynamodb/command-store.ts';
import type { ConfigOf, TABLE } from '../../config.ts';
import type { Clock, ClusterStore, CommandStore } from '../../domain/ports.ts';

function documentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** The clusters table, through the DynamoDB client: every function has it. */
export function dynamoDbStore(config: ConfigOf<typeof TABLE>, clock: Clock): ClusterStore {
  return new DynamoDbClusterStore({ client: documentClient(), tableName: config.tableName, clock });
}

/** The commands kept beside their clusters in the same table: the API's. */
export function dynamoDbCommands(config: ConfigOf<typeof TABLE>): CommandStore {
  return new DynamoDbCommandStore({ client: documentClient(), tableName: config.tableName });
}
