import { describe, expect, it } from 'vitest';
import { MemoryClusterStore } from '../../../lambdas/adapters/memory/cluster-store.ts';
import { REAPER_DEFAULTS } from '../../../lambdas/domain/reaper/rules.ts';
import { sweepClusters } from '../../../lambdas/domain/use-cases/sweep-clusters.ts';
import { launchRole } from '../../../lambdas/domain/workflow/launch-role.ts';
import { throttlingError } from '../../support/fake-provider.ts';
import { useSweepHarness } from '../../support/sweep-harness.ts';

const sweep = useSweepHarness();
const { h } = sweep;
const MINUTE = 60_000;
const GRACE_MS = REAPER_DEFAULTS.orphanGraceSeconds * 1000;

/** The seeded cluster's machines launched, and then a table that has never heard of it. */
async function machinesOfAnUnknownCluster(): Promise<string[]> {
  await h.launchAll();
  const { clock } = h.testStore;
  h.testStore = { store: new MemoryClusterStore({ clock }), clock };
  return h.provider.alive(h.cluster.id).map((machine) => machine.id);
}

/** The seeded cluster READY, then (`laterMs` on) recorded `to` as a workflow would, its machines left behind. */
async function endedCluster(to: 'DESTROYED' | 'FAILED', laterMs = 0): Promise<void> {
  await sweep.readyCluster({ idleTimeoutSeconds: 0 });
  h.testStore.clock.advance(laterMs);
  await endedFromReady(to);
}

/** The READY seeded cluster recorded `to` as a workflow would, its machines left behind. */
async function endedFromReady(to: 'DESTROYED' | 'FAILED'): Promise<void> {
  const from = to === 'DESTROYED' ? 'DESTROYING' : 'READY';
  if (to === 'DESTROYED') {
    await h.testStore.store.transition(h.cluster.id, {
      name: h.cluster.name,
      from: ['READY'],
      to: 'DESTROYING',
      event: { step: 'test', message: 'destroy requested' },
    });
  }
  await h.testStore.store.transition(h.cluster.id, {
    name: h.cluster.name,
    from: [from],
    to,
    event: { step: 'test', message: `${to} while its machines ran on` },
  });
}

describe('the sweep’s orphan pass', () => {
  it('terminates the machines of a cluster the table does not know once they are older than the grace, and not before', async () => {
    const ids = await machinesOfAnUnknownCluster();
    expect(ids).toHaveLength(3);

    expect(await sweepClusters(sweep.deps())).toMatchObject({ orphansRemoved: 0, actions: [] });
    h.testStore.clock.advance(GRACE_MS - 1_000);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ orphansRemoved: 0, actions: [] });
    expect(h.provider.alive(h.cluster.id)).toHaveLength(3);

    h.testStore.clock.advance(2_000);
    const report = await sweepClusters(sweep.deps());

    expect(report.orphansRemoved).toBe(3);
    expect(report.actions).toEqual(
      ids.map((id, at) => ({
        cluster: h.cluster.id,
        action: 'remove',
        reason: `reaped: orphan ${at === 0 ? 'scheduler' : 'worker'} ${id} (pending, launched 15 min ago): no cluster record has its cluster id ${h.cluster.id}`,
      })),
    );
    expect(h.provider.alive(h.cluster.id)).toEqual([]);
    // What the provider kept of them is dropped: they are not found again.
    expect(h.provider.all().filter((machine) => ids.includes(machine.id))).toEqual([]);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ orphansRemoved: 0 });
  });

  it.each(['DESTROYED', 'FAILED'] as const)(
    'terminates what a %s cluster left behind once it has been ended for the grace, stopped machines included, with an event on the cluster',
    async (state) => {
      await endedCluster(state, GRACE_MS);
      const [stopped, ...running] = h.provider.alive(h.cluster.id).map((machine) => machine.id);
      await h.provider.stop([stopped!]);
      h.testStore.clock.advance(GRACE_MS - 1_000);
      expect(await sweepClusters(sweep.deps())).toMatchObject({ orphansRemoved: 0 });
      h.testStore.clock.advance(1_000);

      const report = await sweepClusters(sweep.deps());

      expect(report).toMatchObject({ checked: 0, orphansRemoved: 3, errors: 0 });
      expect(report.actions.map((action) => [action.cluster, action.action])).toEqual([
        ['analytics', 'remove'],
        ['analytics', 'remove'],
        ['analytics', 'remove'],
      ]);
      expect(report.actions[0]?.reason).toBe(
        `reaped: orphan scheduler ${stopped} (stopped, launched 30 min ago): its cluster has been ${state} for 15 min`,
      );
      expect(h.provider.alive(h.cluster.id)).toEqual([]);
      expect((await h.eventsOf('reaper')).map((event) => event.message)).toEqual(
        report.actions.map((action) => action.reason),
      );
      expect(running).toHaveLength(2);
    },
  );

  it('stops a FAILED cluster’s running notebook instead of terminating it, and then leaves it stopped', async () => {
    await sweep.readyCluster({ idleTimeoutSeconds: 0 });
    const [request] = h.provider.launchRequests();
    const [notebook] = await h.provider.launch({
      ...request!,
      role: 'notebook',
      idempotencyToken: 'nb',
      count: 1,
    });
    await endedFromReady('FAILED');
    h.testStore.clock.advance(GRACE_MS);

    const report = await sweepClusters(sweep.deps());

    expect(report).toMatchObject({ orphansRemoved: 3, paused: 1, errors: 0 });
    expect(report.actions.filter((action) => action.action === 'pause')).toEqual([
      {
        cluster: 'analytics',
        action: 'pause',
        reason: `reaped: orphan notebook ${notebook!.id} (pending, launched 15 min ago): its cluster has been FAILED for 15 min: stopped, not terminated, since it may hold unsaved work; destroy the cluster to remove it`,
      },
    ]);
    expect(h.provider.alive(h.cluster.id).map((machine) => [machine.id, machine.state])).toEqual([
      [notebook!.id, 'stopped'],
    ]);
    h.testStore.clock.advance(10 * GRACE_MS);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ orphansRemoved: 0, paused: 0, actions: [] });
    expect(h.provider.machine(notebook!.id).state).toBe('stopped');
  });

  it('never touches the machines of a live cluster, however old, nor those of a create in flight', async () => {
    await sweep.readyCluster({ idleTimeoutSeconds: 0 });
    const creating = await h.seedCluster('nightly');
    await launchRole({ clusterId: creating.id, role: 'scheduler' }, h.deps());
    h.testStore.clock.advance(10 * 24 * 60 * MINUTE);

    const report = await sweepClusters(
      sweep.deps({ reaper: { ...REAPER_DEFAULTS, stuckGraceSeconds: 365 * 86_400 } }),
    );

    expect(report).toMatchObject({ orphansRemoved: 0 });
    expect(h.provider.alive(h.cluster.id)).toHaveLength(3);
    expect(h.provider.alive(creating.id)).toHaveLength(1);
  });

  it('never touches a machine that names no cluster', async () => {
    await h.launchAll();
    const [request] = h.provider.launchRequests();
    const [nameless] = await h.provider.launch({ ...request!, clusterId: '', idempotencyToken: 'nameless' });
    h.testStore.clock.advance(10 * GRACE_MS);

    await sweepClusters(sweep.deps());

    expect(h.provider.machine(nameless!.id).state).not.toBe('terminated');
  });

  it('says what it would remove in a dry run, and removes nothing', async () => {
    await machinesOfAnUnknownCluster();
    h.provider.addVolume(h.cluster.id);
    h.testStore.clock.advance(GRACE_MS);

    const report = await sweepClusters(sweep.deps(), { dryRun: true });

    expect(report).toMatchObject({ dryRun: true, orphansRemoved: 4 });
    expect(report.actions.map((action) => action.action)).toEqual(['remove', 'remove', 'remove', 'remove']);
    expect(h.provider.alive(h.cluster.id)).toHaveLength(3);
    expect(h.provider.volumeIds()).toHaveLength(1);
    expect(h.provider.callsOf('terminate') + h.provider.callsOf('deleteVolumes')).toBe(0);
  });

  it('deletes the loose volumes of an unknown or ended cluster after the grace, never an attached one nor a live cluster’s', async () => {
    await sweep.readyCluster({ idleTimeoutSeconds: 0 });
    const [machine] = h.provider.alive(h.cluster.id);
    const attached = h.provider.addVolume('c-00000000000000aa', machine!.id);
    const ofLive = h.provider.addVolume(h.cluster.id);
    const unknown = h.provider.addVolume('c-00000000000000aa');
    h.testStore.clock.advance(GRACE_MS - 1_000);
    const young = h.provider.addVolume('c-00000000000000bb');
    expect(await sweepClusters(sweep.deps())).toMatchObject({ orphansRemoved: 0 });

    h.testStore.clock.advance(1_000);
    const report = await sweepClusters(sweep.deps());

    expect(report.orphansRemoved).toBe(1);
    expect(report.actions).toEqual([
      {
        cluster: 'c-00000000000000aa',
        action: 'remove',
        reason: `reaped: orphan volume ${unknown} (attached to nothing, created 15 min ago): no cluster record has its cluster id c-00000000000000aa`,
      },
    ]);
    expect(h.provider.volumeIds().sort()).toEqual([attached, ofLive, young].sort());
  });

  it('reports a removal that failed as an error, counts nothing removed, and removes it at the next sweep', async () => {
    await machinesOfAnUnknownCluster();
    h.testStore.clock.advance(GRACE_MS);
    h.provider.failOn('terminate', throttlingError());

    const failed = await sweepClusters(sweep.deps());

    expect(failed).toMatchObject({ orphansRemoved: 0, errors: 1 });
    expect(failed.actions).toEqual([
      { cluster: h.cluster.id, action: 'error', reason: 'could not remove its orphans: Rate exceeded' },
    ]);
    expect(h.provider.alive(h.cluster.id)).toHaveLength(3);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ orphansRemoved: 3, errors: 0 });
  });

  it('reports that it could not list the orphans, and acts on the clusters all the same', async () => {
    await sweep.readyCluster({ maxLifetimeSeconds: 3600 });
    h.testStore.clock.advance(61 * MINUTE);
    h.provider.failOn('findManaged', throttlingError());

    const report = await sweepClusters(sweep.deps());

    expect(report).toMatchObject({ destroyed: 1, errors: 1, orphansRemoved: 0 });
    expect(report.actions[1]).toEqual({
      cluster: '(orphans)',
      action: 'error',
      reason: 'could not list them: Rate exceeded',
    });
  });
});
