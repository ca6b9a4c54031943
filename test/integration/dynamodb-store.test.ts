import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbClusterStore } from '../../lambdas/adapters/dynamodb/cluster-store.ts';
import { clusterKey, createTableInput, ensureTable } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { ConcurrentUpdateError } from '../../lambdas/domain/errors.ts';
import { describeClusterStoreContract } from '../contract/cluster-store.contract.ts';
import { describeClusterWritesContract } from '../contract/cluster-writes.contract.ts';
import { newCluster } from '../contract/store-fixture.ts';
import { localDynamoClient, makeTestStore, type TestStore } from '../support/dynamodb.ts';

describeClusterStoreContract('DynamoDbClusterStore on DynamoDB Local', makeTestStore);
describeClusterWritesContract('DynamoDbClusterStore on DynamoDB Local', makeTestStore);

let t: TestStore;

beforeEach(async () => {
  t = await makeTestStore();
});

describe('ensureTable', () => {
  it('leaves an existing table as it is when called again', async () => {
    const cluster = newCluster(t.clock);
    await t.store.create(cluster, { step: 'accepted', message: 'create requested' });

    await ensureTable(localDynamoClient(), t.tableName);

    expect(await t.store.get(cluster.id)).toEqual(cluster);
  });

  it('builds the key schema and the indexes from the table design', () => {
    const input = createTableInput('clusters');

    expect(input.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(input.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual([
      'byName',
      'byKind',
      'live',
    ]);
    expect(input.BillingMode).toBe('PAY_PER_REQUEST');
  });
});

describe('DynamoDbClusterStore', () => {
  /** The store over a client that records the name of every command it sends. */
  function recordingStore(): { store: DynamoDbClusterStore; sent: string[] } {
    const sent: string[] = [];
    const client = {
      send: (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return t.client.send(command as never);
      },
    } as unknown as TestStore['client'];
    return { store: new DynamoDbClusterStore({ client, tableName: t.tableName, clock: t.clock }), sent };
  }

  it('makes a transition and an update one write each, with no read before it', async () => {
    const cluster = newCluster(t.clock);
    await t.store.create(cluster, { step: 'accepted', message: 'create requested' });
    const { store, sent } = recordingStore();

    await store.update(cluster.id, { changes: { executionArn: 'arn:exec:1' } });
    await store.update(cluster.id, {
      changes: { workersJoined: 1 },
      event: { step: 'probe', message: '1/4' },
    });
    await store.transition(cluster.id, {
      name: cluster.name,
      from: ['CREATING'],
      to: 'FAILED',
      event: { step: 'rollback', message: 'failed' },
    });

    expect(sent).toEqual(['UpdateCommand', 'TransactWriteCommand', 'TransactWriteCommand']);
  });

  it('writes once more, without freeing the name, only when a newer cluster holds it', async () => {
    const old = newCluster(t.clock, 'analytics');
    await t.store.create(old, { step: 'accepted', message: 'create requested' });
    const end = (
      store: DynamoDbClusterStore,
      from: 'CREATING' | 'FAILED' | 'DESTROYING',
      to: 'FAILED' | 'DESTROYING' | 'DESTROYED',
    ) => store.transition(old.id, { name: old.name, from: [from], to, event: { step: to, message: to } });
    await end(t.store, 'CREATING', 'FAILED');
    const newer = newCluster(t.clock, 'analytics');
    await t.store.create(newer, { step: 'accepted', message: 'create requested' });
    await end(t.store, 'FAILED', 'DESTROYING');
    const { store, sent } = recordingStore();

    await end(store, 'DESTROYING', 'DESTROYED');

    expect(sent).toEqual(['TransactWriteCommand', 'TransactWriteCommand']);
    expect((await t.store.get(old.id))?.state).toBe('DESTROYED');
    expect((await t.store.findByName('analytics'))?.id).toBe(newer.id);
  });

  it('answers a write that met another transaction at the same moment with ConcurrentUpdateError, once', async () => {
    const cluster = newCluster(t.clock);
    await t.store.create(cluster, { step: 'accepted', message: 'create requested' });
    const sent: string[] = [];
    const conflicted = {
      send: async (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        throw new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
        });
      },
    } as unknown as TestStore['client'];
    const store = new DynamoDbClusterStore({ client: conflicted, tableName: t.tableName, clock: t.clock });

    const write = store.update(cluster.id, {
      changes: { workersJoined: 1 },
      event: { step: 'probe', message: '1/4' },
    });

    await expect(write).rejects.toThrow(ConcurrentUpdateError);
    await expect(write).rejects.toThrow('changed by another request at the same moment; try again');
    expect(sent).toEqual(['TransactWriteCommand']);
  });

  it('reads a record written before instances were kept per role', async () => {
    const cluster = newCluster(t.clock, 'legacy', {
      instances: [{ id: 'i-1', role: 'scheduler', index: 0, privateIp: '10.0.0.1' }],
    });
    await t.client.send(
      new PutCommand({
        TableName: t.tableName,
        Item: { ...cluster, ...clusterKey(cluster.id), kind: 'cluster' },
      }),
    );

    expect(await t.store.get(cluster.id)).toEqual(cluster);
  });
});
