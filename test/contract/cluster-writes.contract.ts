/**
 * What every ClusterStore's writes guarantee (transition, update): run
 * against DynamoDB Local and the in-memory store, with the rest of the
 * contract (cluster-store.contract.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ClusterIdNotFoundError,
  ConcurrentUpdateError,
  IllegalTransitionError,
} from '../../lambdas/domain/errors.ts';
import type { ClusterState } from '../../schemas/types.generated.ts';
import { instance, type StoreUnderTest, storeFixture } from './store-fixture.ts';

export function describeClusterWritesContract(label: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`${label}: the ClusterStore contract for writes`, () => {
    let t: StoreUnderTest;
    beforeEach(async () => {
      t = await makeStore();
    });
    const { created, get, end } = storeFixture(() => t);

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

      it('keeps no undefined value at any depth, as DynamoDB keeps none', async () => {
        const cluster = await created();

        await t.store.update(cluster.id, {
          changes: {
            failure: { step: 'probe-ready', message: 'down', error: undefined },
            roleInstances: { scheduler: [{ ...instance('scheduler', 0), publicIp: undefined }] },
          },
        });

        const stored = await get(cluster.id);
        expect(stored.failure).toStrictEqual({ step: 'probe-ready', message: 'down' });
        expect(stored.instances).toStrictEqual([instance('scheduler', 0)]);
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
  });
}
