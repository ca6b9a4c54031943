import { beforeEach, describe, expect, it } from 'vitest';
import { ClusterAlreadyExistsError, ClusterIdNotFoundError } from '../../lambdas/domain/errors.ts';
import type { ClusterState } from '../../schemas/types.generated.ts';
import { problemsOf, schemaIds } from '../../schemas/validate.ts';
import { newCluster, type StoreUnderTest, storageAttributesOf, storeFixture } from './store-fixture.ts';

export function describeClusterStoreContract(label: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`${label}: the ClusterStore contract`, () => {
    let t: StoreUnderTest;
    beforeEach(async () => {
      t = await makeStore();
    });

    const { created, get, end } = storeFixture(() => t);

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

      it('keeps a cluster listed through every live state and drops it once DESTROYED', async () => {
        const cluster = await created();
        const listed: Array<[ClusterState, boolean]> = [];
        const path: ClusterState[] = [
          'CREATING',
          'READY',
          'PAUSING',
          'PAUSED',
          'RESUMING',
          'READY',
          'RESTARTING',
          'READY',
          'DESTROYING',
          'DESTROYED',
        ];
        for (const [at, to] of path.entries()) {
          if (at > 0) {
            await t.store.transition(cluster.id, {
              name: cluster.name,
              from: [path[at - 1]!],
              to,
              event: { step: 'move', message: to },
            });
          }
          listed.push([to, (await t.store.list()).some((c) => c.id === cluster.id)]);
        }

        expect(listed).toEqual(path.map((state) => [state, state !== 'DESTROYED']));
        expect((await t.store.list({ includeEnded: true })).map((c) => c.state)).toEqual(['DESTROYED']);
      });

      it('drops a FAILED cluster, and lists it again while it is destroyed', async () => {
        const cluster = await created();
        await end(cluster, 'FAILED');
        const whenFailed = await t.store.list();
        await t.store.transition(cluster.id, {
          name: cluster.name,
          from: ['FAILED'],
          to: 'DESTROYING',
          event: { step: 'destroy', message: 'destroying' },
        });

        expect(whenFailed).toEqual([]);
        expect((await t.store.list()).map((c) => [c.id, c.state])).toEqual([[cluster.id, 'DESTROYING']]);
      });

      it('lists only the live clusters among many ended ones, and every one when asked', async () => {
        const ended: string[] = [];
        for (let i = 0; i < 30; i++) {
          const cluster = await created(`old-${i}`);
          await end(cluster, i % 2 === 0 ? 'DESTROYED' : 'FAILED');
          ended.push(cluster.id);
          t.clock.advance(1_000);
        }
        const live = [await created('live-a'), await created('live-b', { state: 'READY' })];

        expect((await t.store.list()).map((c) => c.id).sort()).toEqual(live.map((c) => c.id).sort());
        expect(await t.store.list({ includeEnded: true })).toHaveLength(32);
      });
    });
  });
}
