import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbClusterStore } from '../../adapters/dynamodb/cluster-store.ts';
import type { ConfigOf, TABLE } from '../../config.ts';
import type { Clock, ClusterStore } from '../../domain/ports.ts';

/** The clusters table, through the DynamoDB client: every function has it. */
export function dynamoDbStore(config: ConfigOf<typeof TABLE>, clock: Clock): ClusterStore {
  return new DynamoDbClusterStore({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    tableName: config.tableName,
    clock,
  });
}
