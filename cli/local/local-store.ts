import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbClusterStore } from '../../lambdas/adapters/dynamodb/cluster-store.ts';
import { DynamoDbCommandStore } from '../../lambdas/adapters/dynamodb/command-store.ts';
import { ensureTable } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { notifyingStore } from '../../lambdas/adapters/notifying-store.ts';
import type { Clock } from '../../lambdas/domain/ports.ts';

/**
 * The clusters table on the local DynamoDB at `endpoint`, created when missing:
 * the clusters and their commands. The API and the workflow steps share the
 * cluster store: its writes wake the events requests that wait for them.
 * Its writes and events are stamped by `clock`, the plane's, which the use
 * cases read too: `updatedAt` and `idleSince` are on one time line.
 */
export async function localStore(endpoint: string, region: string, tableName: string, clock: Clock) {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  await ensureTable(client, tableName);
  return {
    store: notifyingStore(new DynamoDbClusterStore({ client, tableName, clock })),
    commands: new DynamoDbCommandStore({ client, tableName }),
  };
}
