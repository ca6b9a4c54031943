/**
 * A ClusterStore on its own fresh table of the run's DynamoDB Local
 * (started by test/global-setup.ts), with a clock the test controls.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { DynamoDbClusterStore } from '../../lambdas/adapters/dynamodb/cluster-store.ts';
import { ensureTable } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { type FakeClock, fakeClock } from './fake-clock.ts';

/** A DynamoDB client for the run's DynamoDB Local. */
export function localDynamoClient(endpoint: string = inject('dynamoEndpoint')): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

export interface TestStore {
  store: DynamoDbClusterStore;
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: FakeClock;
}

export async function makeTestStore(): Promise<TestStore> {
  const tableName = `bilbo-test-${randomBytes(6).toString('hex')}`;
  const raw = localDynamoClient();
  await ensureTable(raw, tableName);
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const clock = fakeClock();
  return { store: new DynamoDbClusterStore({ client, tableName, clock }), client, tableName, clock };
}
