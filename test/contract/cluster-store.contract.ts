/**
 * What every ClusterStore guarantees, whatever keeps the records: run
 * against DynamoDB Local (test/integration/dynamodb-store.test.ts) and the
 * in-memory store (test/unit/adapters/memory-cluster-store.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ClusterAlreadyExistsError,
  ClusterIdNotFoundError,
  ConcurrentUpdateError,
  IllegalTransitionError,
} from '../../lambdas/domain/errors.ts';
import type { ClusterStore } from '../../lambdas/domain/ports.ts';
import type { Cluster, ClusterInstance, ClusterState } from '../../schemas/types.generated.ts';
import { problemsOf, schemaIds } from '../../schemas/validate.ts';
import type { FakeClock } from '../support/fake-clock.ts';

const IN_PROGRESS: ClusterState[] = ['CREATING', 'PAUSING', 'RESUMING', 'RESTARTING', 'DESTROYING'];
const STORAGE_ATTRIBUTES = ['pk', 'sk', 'kind', 'expiresAt', 'roleInstances'];

export interface StoreUnderTest {
  store: ClusterStore;
  clock: FakeClock;
}

export function newCluster(clock: FakeClock, name = 'analytics', overrides: Partial<Cluster> = {}): Cluster {
  const now = clock.now().toISOString();
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

function storageAttributesOf(value: object): string[] {
  return Object.keys(value).filter((key) => STORAGE_ATTRIBUTES.includes(key));
}

const instance = (role: ClusterInstance['role'], index: number): ClusterInstance => ({
  id: `i-${role}-${index}`,
  role,
  index,
  privateIp: `10.0.0.${index + 10}`,
});

export function describeClusterStoreContract(label: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`${label}: the ClusterStore contract`, () => {
    let t: StoreUnderTest;
    beforeEach(async () => {
      t = await makeStore();
    });

    async function created(name = 'analytics', overrides: Partial<Cluster> = {}): Promise<Cluster> {
      const cluster = newCluster(t.clock, name, overrides);
      await t.store.create(cluster, { step: 'accepted', message: 'create requested' });
      return cluster;
    }

    async function get(id: string): Promise<Cluster> {
      const cluster = await t.store.get(id);
      if (!cluster) throw new Error(`no cluster ${id}`);
      return cluster;
    }

    async function end(cluster: Cluster, to: 'DESTROYED' | 'FAILED'): Promise<void> {
      const current = await get(cluster.id);
      if (to === 'DESTROYED' && current.state !== 'DESTROYING') {
        await t.store.transition(cluster.id, {
          name: cluster.name,
          from: ['CREATING', 'READY', 'FAILED'],
          to: 'DESTROYING',
          event: { step: 'destroy', message: 'destroying' },
        });
      }
      await t.store.transition(cluster.id, {
        name: cluster.name,
        from: to === 'FAILED' ? IN_PROGRESS : ['DESTROYING'],
        to,
        event: { step: 'end', message: `now ${to}` },
      });
    }

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

      it('returns copies: changing one changes nothing stored', async () => {
        const cluster = await created();
        const read = await get(cluster.id);
        read.plan.notes.push('changed');

        expect((await get(cluster.id)).plan.notes).toEqual(cluster.plan.notes);
      });
    });

    describe('names', () => {
      it('refuses a second live cluster with the same name and writes nothing of it', async () => {
        await created('analytics');
        const second = newCluster(t.clock, 'analytics');

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

        expect((await get(old.id)).state).toBe('DESTROYED');
        await expect(
          t.store.create(newCluster(t.clock, 'analytics'), { step: 'accepted', message: 'x' }),
        ).rejects.toThrow(ClusterAlreadyExistsError);
        expect((await t.store.findByName('analytics'))?.id).toBe(current.id);
      });
    });

    describe('transition', () => {
      it('sets the state, bumps the version and applies the changes', async () => {
        const cluster = await created();
        t.clock.advance(5_000);

        await t.store.transition(cluster.id, {
          name: cluster.name,
          from: ['CREATING'],
          to: 'READY',
          expectedVersion: 1,
          changes: { schedulerAddress: 'tcp://10.0.0.1:8786', workersJoined: 4 },
          event: { step: 'record-ready', message: 'ready' },
        });

        expect(await get(cluster.id)).toEqual({
          ...cluster,
          state: 'READY',
          version: 2,
          updatedAt: '2026-01-01T00:00:05.000Z',
          schedulerAddress: 'tcp://10.0.0.1:8786',
          workersJoined: 4,
        });
      });

      it('removes a field whose change is undefined', async () => {
        const cluster = await created('analytics', { dashboardUrl: 'http://10.0.0.1:8787' });

        await t.store.transition(cluster.id, {
          name: cluster.name,
          from: ['CREATING'],
          to: 'READY',
          changes: { dashboardUrl: undefined },
          event: { step: 'ready', message: 'ready' },
        });

        expect(await get(cluster.id)).not.toHaveProperty('dashboardUrl');
      });

      it('appends an event with the new state for every transition', async () => {
        const cluster = await created();
        await t.store.transition(cluster.id, {
          name: cluster.name,
          from: ['CREATING'],
          to: 'READY',
          event: { step: 's1', message: 'm' },
        });
        await end(cluster, 'DESTROYED');

        const states = (await t.store.events(cluster.id)).map((event) => event.state);

        expect(states).toEqual(['CREATING', 'READY', 'DESTROYING', 'DESTROYED']);
      });

      it('refuses a transition from a state not in `from`, naming the state it is in, and changes nothing', async () => {
        const cluster = await created();

        const refused = t.store.transition(cluster.id, {
          name: cluster.name,
          from: ['READY'],
          to: 'PAUSING',
          event: { step: 'pause', message: 'm' },
        });

        await expect(refused).rejects.toThrow(IllegalTransitionError);
        await expect(refused).rejects.toThrow('A cluster in state CREATING cannot go to PAUSING.');
        expect(await get(cluster.id)).toEqual(cluster);
        expect(await t.store.events(cluster.id)).toHaveLength(1);
      });

      it('refuses a stale expected version, naming both versions', async () => {
        const cluster = await created();
        await t.store.update(cluster.id, { changes: { executionArn: 'arn:exec:1' } });

        await expect(
          t.store.transition(cluster.id, {
            name: cluster.name,
            from: ['CREATING'],
            to: 'READY',
            expectedVersion: 1,
            event: { step: 'ready', message: 'ready' },
          }),
        ).rejects.toThrow(/at version 2, not 1/);
        expect(await get(cluster.id)).toMatchObject({ state: 'CREATING', version: 2 });
      });

      it('lets exactly one of two concurrent transitions from the same version win', async () => {
        const cluster = await created();
        const go = (to: ClusterState) =>
          t.store.transition(cluster.id, {
            name: cluster.name,
            from: ['CREATING'],
            to,
            expectedVersion: 1,
            event: { step: to, message: to },
          });

        const results = await Promise.allSettled([go('READY'), go('FAILED')]);

        const lost = results.filter((result) => result.status === 'rejected');
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrentUpdateError);
        expect((await get(cluster.id)).version).toBe(2);
        expect(await t.store.events(cluster.id)).toHaveLength(2);
      });

      it('lands whatever the version when none is expected: it is conditional on the state only', async () => {
        const cluster = await created();
        await t.store.update(cluster.id, { changes: { executionArn: 'arn:exec:1' } });

        await t.store.transition(cluster.id, {
          name: cluster.name,
          from: ['CREATING'],
          to: 'READY',
          event: { step: 'ready', message: 'ready' },
        });

        expect(await get(cluster.id)).toMatchObject({
          state: 'READY',
          version: 3,
          executionArn: 'arn:exec:1',
        });
      });

      it('throws ClusterIdNotFoundError for an unknown id', async () => {
        await expect(
          t.store.transition('c-0000000000000000', {
            name: 'analytics',
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

        await t.store.update(cluster.id, {
          changes: { executionArn: 'arn:exec:1' },
          expectedVersion: 1,
          event: { step: 'workflow', message: 'm' },
        });

        expect(await get(cluster.id)).toEqual({ ...cluster, version: 2, executionArn: 'arn:exec:1' });
        const events = await t.store.events(cluster.id);
        expect(events.at(-1)).toMatchObject({ step: 'workflow' });
        expect(events.at(-1)).not.toHaveProperty('state');
      });

      it('refuses a stale version with ConcurrentUpdateError', async () => {
        const cluster = await created();
        await t.store.update(cluster.id, { changes: { workersJoined: 1 }, expectedVersion: 1 });

        await expect(
          t.store.update(cluster.id, { changes: { workersJoined: 2 }, expectedVersion: 1 }),
        ).rejects.toThrow(ConcurrentUpdateError);
        expect((await get(cluster.id)).workersJoined).toBe(1);
      });

      it('lands both of two concurrent updates without a version, each bumping the version once', async () => {
        const cluster = await created();

        await Promise.all([
          t.store.update(cluster.id, { changes: { workersJoined: 1 } }),
          t.store.update(cluster.id, { changes: { executionArn: 'arn:exec:1' } }),
        ]);

        expect(await get(cluster.id)).toMatchObject({
          version: 3,
          workersJoined: 1,
          executionArn: 'arn:exec:1',
        });
      });

      it('refuses to write outside `inStates`, naming the state the cluster is in', async () => {
        const cluster = await created();

        const refused = t.store.update(cluster.id, { changes: { workersJoined: 3 }, inStates: ['READY'] });

        await expect(refused).rejects.toThrow(ConcurrentUpdateError);
        await expect(refused).rejects.toThrow(/is CREATING/);
        expect((await get(cluster.id)).workersJoined).toBe(0);
      });

      it('replaces one role’s instances and keeps the others’, in role order', async () => {
        const cluster = await created();
        await t.store.update(cluster.id, { changes: { roleInstances: { worker: [instance('worker', 0)] } } });
        await t.store.update(cluster.id, {
          changes: { roleInstances: { scheduler: [instance('scheduler', 0)] } },
        });
        const workers = [instance('worker', 0), instance('worker', 1)];
        await t.store.update(cluster.id, { changes: { roleInstances: { worker: workers } } });
        // A retried launch writes the same list again.
        await t.store.update(cluster.id, { changes: { roleInstances: { worker: workers } } });

        expect((await get(cluster.id)).instances).toEqual([instance('scheduler', 0), ...workers]);
      });

      it('refuses to set the fields the store manages', async () => {
        const cluster = await created();

        await expect(t.store.update(cluster.id, { changes: { instances: [] } as never })).rejects.toThrow(
          /may not set the cluster's instances/,
        );
        await expect(t.store.update(cluster.id, { changes: { state: 'READY' } as never })).rejects.toThrow(
          /may not set the cluster's state/,
        );
      });

      it('throws ClusterIdNotFoundError for an unknown id', async () => {
        await expect(t.store.update('c-0000000000000000', { changes: {} })).rejects.toThrow(
          ClusterIdNotFoundError,
        );
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
}
