import { randomBytes } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbClusterStore } from '../../lambdas/adapters/dynamodb/cluster-store.ts';
import { createTableInput, ensureTable } from '../../lambdas/adapters/dynamodb/table-design.ts';
import {
  ClusterAlreadyExistsError,
  ClusterIdNotFoundError,
  ConcurrentUpdateError,
  IllegalTransitionError,
} from '../../lambdas/domain/errors.ts';
import type { Cluster, ClusterState } from '../../schemas/types.generated.ts';
import { problemsOf, schemaIds } from '../../schemas/validate.ts';
import { localDynamoClient, makeTestStore, type TestStore } from '../support/dynamodb.ts';

const STORAGE_ATTRIBUTES = ['pk', 'sk', 'kind', 'expiresAt'];
const IN_PROGRESS: ClusterState[] = ['CREATING', 'PAUSING', 'RESUMING', 'RESTARTING', 'DESTROYING'];

let t: TestStore;

beforeEach(async () => {
  t = await makeTestStore();
});

function newCluster(name = 'analytics', overrides: Partial<Cluster> = {}): Cluster {
  const now = t.clock.now().toISOString();
  return {
    id: `c-${randomBytes(8).toString('hex')}`,
    name,
    owner: 'arn:aws:iam::111111111111:user/alice',
    state: 'CREATING',
    version: 1,
    createdAt: now,
    updatedAt: now,
    profileName: 'default',
    plan: {
      cluster: name,
      kind: 'dask',
      roles: [
        {
          role: 'scheduler',
          count: 1,
          instance: { ec2type: 't3.large', init_cmd: ['echo hi'], tags: [['team', 'ml']] },
          instanceType: { name: 't3.large', vcpus: 2, threadsPerCore: 2, memoryMiB: 8192, source: 'ec2' },
        },
        {
          role: 'worker',
          count: 2,
          instance: { ec2type: 'm5.xlarge', init_cmd: [], tags: [] },
          instanceType: { name: 'm5.xlarge', vcpus: 4, threadsPerCore: 2, memoryMiB: 16384 },
          dask: { nworkers: 2, nthreads: 2, memoryLimitBytes: 8_000_000_000 },
        },
      ],
      wantedWorkers: 4,
      totalWorkers: 4,
      readyTimeoutSeconds: 600,
      idleTimeoutSeconds: 3600,
      maxLifetimeSeconds: 86_400,
      notes: ['workers use 2 processes of 2 threads'],
    },
    instances: [],
    workersJoined: 0,
    ...overrides,
  };
}

async function created(name = 'analytics', overrides: Partial<Cluster> = {}): Promise<Cluster> {
  const cluster = newCluster(name, overrides);
  await t.store.create(cluster, { step: 'accepted', message: 'create requested' });
  return cluster;
}

async function end(cluster: Cluster, to: 'DESTROYED' | 'FAILED'): Promise<Cluster> {
  const current = (await t.store.get(cluster.id))!;
  const from = to === 'FAILED' ? IN_PROGRESS : (['DESTROYING'] as ClusterState[]);
  const ready =
    to === 'DESTROYED' && current.state !== 'DESTROYING'
      ? await t.store.transition(cluster.id, {
          from: ['CREATING', 'READY', 'FAILED'],
          to: 'DESTROYING',
          event: { step: 'destroy', message: 'destroying' },
        })
      : current;
  return t.store.transition(ready.id, { from, to, event: { step: 'end', message: `now ${to}` } });
}

function storageAttributesOf(value: object): string[] {
  return Object.keys(value).filter((key) => STORAGE_ATTRIBUTES.includes(key));
}

describe('ensureTable', () => {
  it('leaves an existing table as it is when called again', async () => {
    await ensureTable(localDynamoClient(), t.tableName);
    const cluster = await created();

    expect(await t.store.get(cluster.id)).toEqual(cluster);
  });

  it('builds the key schema and both indexes from the table design', () => {
    const input = createTableInput('clusters');

    expect(input.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(input.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['byName', 'byKind']);
    expect(input.BillingMode).toBe('PAY_PER_REQUEST');
  });
});

describe('DynamoDbClusterStore', () => {
  describe('create and get', () => {
    it('returns the record as it was created, valid against the cluster schema', async () => {
      const cluster = await created();

      const read = await t.store.get(cluster.id);

      expect(read).toEqual(cluster);
      expect(problemsOf(schemaIds.cluster, read, 'cluster')).toEqual([]);
      expect(storageAttributesOf(read!)).toEqual([]);
    });

    it('records the first event with the initial state', async () => {
      const cluster = await created();

      const events = await t.store.events(cluster.id);

      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ clusterId: cluster.id, step: 'accepted', state: 'CREATING' });
      expect(problemsOf(schemaIds.event, events[0], 'event')).toEqual([]);
      expect(storageAttributesOf(events[0]!)).toEqual([]);
    });

    it('returns undefined for an unknown id', async () => {
      expect(await t.store.get('c-0000000000000000')).toBeUndefined();
    });
  });

  describe('names', () => {
    it('refuses a second live cluster with the same name and writes nothing of it', async () => {
      await created('analytics');
      const second = newCluster('analytics');

      await expect(t.store.create(second, { step: 'accepted', message: 'again' })).rejects.toThrow(
        ClusterAlreadyExistsError,
      );
      expect(await t.store.get(second.id)).toBeUndefined();
      expect(await t.store.events(second.id)).toEqual([]);
      expect(await t.store.list({ includeEnded: true })).toHaveLength(1);
    });

    it.each(['DESTROYED', 'FAILED'] as const)('frees the name once the cluster is %s', async (state) => {
      const first = await created('analytics');
      await end(first, state);
      t.clock.advance(1_000);

      const second = await created('analytics');

      expect(await t.store.findByName('analytics')).toEqual(second);
    });

    it('finds the live cluster even when an ended one with the name is newer', async () => {
      const ended = await created('analytics', { createdAt: '2026-01-02T00:00:00.000Z' });
      await end(ended, 'FAILED');
      const live = await created('analytics', { createdAt: '2026-01-01T00:00:00.000Z' });

      expect((await t.store.findByName('analytics'))?.id).toBe(live.id);
    });

    it('finds the most recent ended cluster when none is live', async () => {
      const older = await created('analytics');
      await end(older, 'DESTROYED');
      t.clock.advance(60_000);
      const newer = await created('analytics');
      await end(newer, 'FAILED');

      const found = await t.store.findByName('analytics');

      expect(found).toMatchObject({ id: newer.id, state: 'FAILED' });
      expect(storageAttributesOf(found!)).toEqual([]);
    });

    it('returns undefined for a name never used', async () => {
      expect(await t.store.findByName('nobody')).toBeUndefined();
    });

    it("never frees a newer cluster's name when an old cluster ends again", async () => {
      const old = await created('analytics');
      await end(old, 'FAILED');
      const current = await created('analytics');

      await end(old, 'DESTROYED');

      await expect(
        t.store.create(newCluster('analytics'), { step: 'accepted', message: 'x' }),
      ).rejects.toThrow(ClusterAlreadyExistsError);
      expect((await t.store.findByName('analytics'))?.id).toBe(current.id);
    });
  });

  describe('transition', () => {
    it('sets the state, bumps the version, applies the changes and returns the stored record', async () => {
      const cluster = await created();
      t.clock.advance(5_000);

      const ready = await t.store.transition(cluster.id, {
        from: ['CREATING'],
        to: 'READY',
        expectedVersion: 1,
        changes: { schedulerAddress: 'tcp://10.0.0.1:8786', workersJoined: 4 },
        event: { step: 'record-ready', message: 'ready' },
      });

      expect(ready).toEqual({
        ...cluster,
        state: 'READY',
        version: 2,
        updatedAt: '2026-01-01T00:00:05.000Z',
        schedulerAddress: 'tcp://10.0.0.1:8786',
        workersJoined: 4,
      });
      expect(await t.store.get(cluster.id)).toEqual(ready);
    });

    it('removes a field whose change is undefined', async () => {
      const cluster = await created('analytics', { dashboardUrl: 'http://10.0.0.1:8787' });

      const changed = await t.store.transition(cluster.id, {
        from: ['CREATING'],
        to: 'READY',
        changes: { dashboardUrl: undefined },
        event: { step: 'ready', message: 'ready' },
      });

      expect(changed).not.toHaveProperty('dashboardUrl');
      expect(await t.store.get(cluster.id)).toEqual(changed);
    });

    it('appends an event with the new state for every transition', async () => {
      const cluster = await created();
      await t.store.transition(cluster.id, {
        from: ['CREATING'],
        to: 'READY',
        event: { step: 's1', message: 'm' },
      });
      await end(cluster, 'DESTROYED');

      const states = (await t.store.events(cluster.id)).map((event) => event.state);

      expect(states).toEqual(['CREATING', 'READY', 'DESTROYING', 'DESTROYED']);
    });

    it('refuses a transition from a state not in `from` and changes nothing', async () => {
      const cluster = await created();

      await expect(
        t.store.transition(cluster.id, {
          from: ['READY'],
          to: 'PAUSING',
          event: { step: 'pause', message: 'm' },
        }),
      ).rejects.toThrow(IllegalTransitionError);
      expect(await t.store.get(cluster.id)).toEqual(cluster);
      expect(await t.store.events(cluster.id)).toHaveLength(1);
    });

    it('lets exactly one of two concurrent transitions from the same version win', async () => {
      const cluster = await created();
      const go = (to: ClusterState) =>
        t.store.transition(cluster.id, {
          from: ['CREATING'],
          to,
          expectedVersion: 1,
          event: { step: to, message: to },
        });

      const results = await Promise.allSettled([go('READY'), go('FAILED')]);

      const won = results.filter((result) => result.status === 'fulfilled');
      const lost = results.filter((result) => result.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrentUpdateError);
      expect((await t.store.get(cluster.id))?.version).toBe(2);
      expect(await t.store.events(cluster.id)).toHaveLength(2);
    });

    it('checks the version in the write itself, not only in the read before it', async () => {
      const cluster = await created();
      const store = storeWithWriteBeforeFirstTransaction(() =>
        t.store.update(cluster.id, 1, { executionArn: 'arn:exec:1' }),
      );

      await expect(
        store.transition(cluster.id, {
          from: ['CREATING'],
          to: 'READY',
          expectedVersion: 1,
          event: { step: 'ready', message: 'ready' },
        }),
      ).rejects.toThrow(ConcurrentUpdateError);
      expect(await t.store.get(cluster.id)).toMatchObject({
        state: 'CREATING',
        version: 2,
        executionArn: 'arn:exec:1',
      });
    });

    it('retries from a fresh read when no version was asked for and another write came between', async () => {
      const cluster = await created();
      const store = storeWithWriteBeforeFirstTransaction(() =>
        t.store.update(cluster.id, 1, { executionArn: 'arn:exec:1' }),
      );

      const ready = await store.transition(cluster.id, {
        from: ['CREATING'],
        to: 'READY',
        event: { step: 'ready', message: 'ready' },
      });

      expect(ready).toMatchObject({ state: 'READY', version: 3, executionArn: 'arn:exec:1' });
      expect(await t.store.get(cluster.id)).toEqual(ready);
    });

    it('throws ClusterIdNotFoundError for an unknown id', async () => {
      await expect(
        t.store.transition('c-0000000000000000', {
          from: ['CREATING'],
          to: 'READY',
          event: { step: 's', message: 'm' },
        }),
      ).rejects.toThrow(ClusterIdNotFoundError);
    });
  });

  describe('update', () => {
    it('sets fields without changing the state and appends an event without a state', async () => {
      const cluster = await created();

      const updated = await t.store.update(
        cluster.id,
        1,
        { executionArn: 'arn:exec:1' },
        { step: 'workflow', message: 'm' },
      );

      expect(updated).toEqual({ ...cluster, version: 2, executionArn: 'arn:exec:1' });
      const events = await t.store.events(cluster.id);
      expect(events.at(-1)).toMatchObject({ step: 'workflow' });
      expect(events.at(-1)).not.toHaveProperty('state');
    });

    it('refuses a stale version with ConcurrentUpdateError', async () => {
      const cluster = await created();
      await t.store.update(cluster.id, 1, { workersJoined: 1 });

      await expect(t.store.update(cluster.id, 1, { workersJoined: 2 })).rejects.toThrow(
        ConcurrentUpdateError,
      );
      expect((await t.store.get(cluster.id))?.workersJoined).toBe(1);
    });

    it('throws ClusterIdNotFoundError for an unknown id', async () => {
      await expect(t.store.update('c-0000000000000000', 1, {})).rejects.toThrow(ClusterIdNotFoundError);
    });
  });

  describe('events', () => {
    it('come back in write order, even within one millisecond, and page after an id', async () => {
      const cluster = await created();
      for (let i = 0; i < 30; i++)
        await t.store.appendEvent(cluster.id, { step: 'step', message: `event ${i}` });

      const all = await t.store.events(cluster.id);
      const page = await t.store.events(cluster.id, { after: all[10]!.id, limit: 10 });
      const rest = await t.store.events(cluster.id, { after: page.at(-1)!.id });

      expect(all.map((event) => event.message)).toEqual([
        'create requested',
        ...Array.from({ length: 30 }, (_, i) => `event ${i}`),
      ]);
      expect(page.map((event) => event.message)).toEqual(
        Array.from({ length: 10 }, (_, i) => `event ${i + 10}`),
      );
      expect(rest.map((event) => event.message)).toEqual(
        Array.from({ length: 10 }, (_, i) => `event ${i + 20}`),
      );
      expect(await t.store.events(cluster.id, { after: all.at(-1)!.id })).toEqual([]);
    });

    it('returns the appended event as it is stored', async () => {
      const cluster = await created();

      const appended = await t.store.appendEvent(cluster.id, { step: 'launch', message: 'launching' });

      expect((await t.store.events(cluster.id)).at(-1)).toEqual(appended);
      expect(problemsOf(schemaIds.event, appended, 'event')).toEqual([]);
    });

    it('refuses an event for an unknown cluster', async () => {
      await expect(t.store.appendEvent('c-0000000000000000', { step: 's', message: 'm' })).rejects.toThrow(
        ClusterIdNotFoundError,
      );
    });
  });

  describe('list', () => {
    it('lists live clusters newest first and hides ended ones unless asked', async () => {
      const a = await created('a');
      t.clock.advance(1_000);
      const b = await created('b');
      t.clock.advance(1_000);
      const c = await created('c');
      await end(b, 'DESTROYED');

      const live = await t.store.list();
      const all = await t.store.list({ includeEnded: true });

      expect(live.map((cluster) => cluster.id)).toEqual([c.id, a.id]);
      expect(all.map((cluster) => cluster.id)).toEqual([c.id, b.id, a.id]);
      expect(all.flatMap(storageAttributesOf)).toEqual([]);
      for (const cluster of all) expect(problemsOf(schemaIds.cluster, cluster, 'cluster')).toEqual([]);
    });
  });
});

/**
 * The test's store, except that another write lands between its read and
 * its first transaction, as when another Lambda writes at the same moment.
 */
function storeWithWriteBeforeFirstTransaction(interloper: () => Promise<unknown>): DynamoDbClusterStore {
  let done = false;
  const client = {
    send: async (command: unknown) => {
      if (command instanceof TransactWriteCommand && !done) {
        done = true;
        await interloper();
      }
      return t.client.send(command as TransactWriteCommand);
    },
  } as unknown as TestStore['client'];
  return new DynamoDbClusterStore({ client, tableName: t.tableName, clock: t.clock });
}
