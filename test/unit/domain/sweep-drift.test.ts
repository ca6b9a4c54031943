import { describe, expect, it } from 'vitest';
import { REAPER_DEFAULTS } from '../../../lambdas/domain/reaper/rules.ts';
import { sweepClusters } from '../../../lambdas/domain/use-cases/sweep-clusters.ts';
import { throttlingError } from '../../support/fake-provider.ts';
import { useSweepHarness } from '../../support/sweep-harness.ts';

const sweep = useSweepHarness();
const { h } = sweep;
const MINUTE = 60_000;

async function pausedCluster(): Promise<string[]> {
  await sweep.readyCluster();
  const ids = h.provider.alive(h.cluster.id).map((machine) => machine.id);
  await h.provider.stop(ids);
  await h.testStore.store.transition(h.cluster.id, {
    name: h.cluster.name,
    from: ['READY'],
    to: 'PAUSED',
    event: { step: 'test', message: 'paused' },
  });
  return ids;
}

describe('the sweep, when a live record’s machines are gone', () => {
  it('records a READY cluster whose machines are all gone FAILED, with each one and what its provider says', async () => {
    await sweep.readyCluster();
    const [scheduler, ...workers] = h.provider.alive(h.cluster.id).map((machine) => machine.id);
    h.provider.kill(scheduler!, 'Server.SpotInstanceTermination: Spot instance termination');
    for (const worker of workers) h.provider.kill(worker);

    const report = await sweepClusters(sweep.deps());

    const reason =
      `reaped: all 3 of its instances are gone (scheduler 0 (${scheduler}) is terminated: Server.SpotInstanceTermination: Spot instance termination; ` +
      `worker 0 (${workers[0]}) is terminated: Server.InternalError: Internal error on launch; ` +
      `worker 1 (${workers[1]}) is terminated: Server.InternalError: Internal error on launch)`;
    expect(report).toMatchObject({ failed: 1, destroyed: 0 });
    expect(report.actions).toEqual([
      { cluster: 'analytics', action: 'fail', reason: `${reason}: FAILED, every instance terminated` },
    ]);
    expect(await h.latest()).toMatchObject({ state: 'FAILED', failure: { step: 'reaper', message: reason } });
    expect((await h.eventsOf('reaper')).map((event) => event.message)).toEqual([
      `${reason}: FAILED, terminating whatever is left`,
    ]);
  });

  it('counts a machine its provider no longer knows as gone', async () => {
    await sweep.readyCluster();
    const ids = h.provider.alive(h.cluster.id).map((machine) => machine.id);
    for (const id of ids) h.provider.kill(id);
    await h.provider.forget(ids);

    const report = await sweepClusters(sweep.deps());

    expect(report.actions[0]?.reason).toMatch(
      /^reaped: all 3 of its instances are gone \(scheduler 0 \(\S+\) is terminated: the provider does not know this instance;/,
    );
    expect((await h.latest()).state).toBe('FAILED');
  });

  it('keeps a READY cluster with some machines left, degraded with the reason', async () => {
    await sweep.readyCluster();
    const [, worker] = h.provider.alive(h.cluster.id).map((machine) => machine.id);
    h.provider.kill(worker!, 'exited with code 1');

    expect(await sweepClusters(sweep.deps())).toMatchObject({ failed: 0 });

    expect(await h.latest()).toMatchObject({
      state: 'READY',
      health: { status: 'degraded', reason: expect.stringContaining(`worker 0 (${worker}) is terminated`) },
    });
  });

  it('records a PAUSED cluster whose machines are all gone FAILED', async () => {
    const ids = await pausedCluster();
    for (const id of ids) h.provider.kill(id);

    const report = await sweepClusters(sweep.deps());

    expect(report).toMatchObject({ failed: 1 });
    expect(report.actions[0]?.reason).toMatch(/^reaped: all 3 of its instances are gone \(.*: FAILED, every/);
    expect((await h.latest()).state).toBe('FAILED');
  });

  it('marks a PAUSED cluster with some machines gone degraded, with an event, once', async () => {
    const [, worker] = await pausedCluster();
    h.provider.kill(worker!, 'Server.ScheduledStop: Stopped due to scheduled retirement');

    expect(await sweepClusters(sweep.deps())).toMatchObject({ failed: 0, actions: [] });
    const degraded = await h.latest();
    const reason = `worker 0 (${worker}) is terminated: Server.ScheduledStop: Stopped due to scheduled retirement`;
    expect(degraded).toMatchObject({
      state: 'PAUSED',
      health: { status: 'degraded', reason, instancesExpected: 3, instancesRunning: 0 },
    });
    expect((await h.eventsOf('reaper')).map((event) => event.message)).toEqual([`degraded: ${reason}`]);

    await sweepClusters(sweep.deps());
    expect((await h.latest()).version).toBe(degraded.version);
  });

  it('says what it would do in a dry run, and changes nothing', async () => {
    await sweep.readyCluster();
    for (const machine of h.provider.alive(h.cluster.id)) h.provider.kill(machine.id);
    const before = await h.latest();

    const report = await sweepClusters(sweep.deps(), { dryRun: true });

    expect(report).toMatchObject({ failed: 1, actions: [{ action: 'fail' }] });
    expect(report.actions[0]?.reason).toMatch(/^reaped: all 3 of its instances are gone \([^)]*\)/);
    expect(await h.latest()).toEqual(before);
  });

  it('does nothing to a cluster whose machines cannot be described now', async () => {
    await sweep.readyCluster();
    for (const machine of h.provider.alive(h.cluster.id)) h.provider.kill(machine.id);
    // The health refresh's describe, then the sweep's own.
    h.provider.failOn('describe', throttlingError()).failOn('describe', throttlingError(), { call: 2 });

    expect(await sweepClusters(sweep.deps())).toMatchObject({ failed: 0, errors: 0 });
    expect((await h.latest()).state).toBe('READY');
  });
});

describe('the sweep, when its looks at a READY cluster cannot tell', () => {
  it('counts the looks in a row, and FAILs the cluster at the third while none of its machines runs, terminating them', async () => {
    await sweep.readyCluster();
    sweep.scheduler = undefined;
    const ids = h.provider.alive(h.cluster.id).map((machine) => machine.id);
    await h.provider.stop(ids);

    for (const looks of [1, 2]) {
      expect(await sweepClusters(sweep.deps())).toMatchObject({ unknown: 1, failed: 0 });
      expect(await h.latest()).toMatchObject({ state: 'READY', unknownLooks: looks });
      h.testStore.clock.advance(5 * MINUTE);
    }
    const report = await sweepClusters(sweep.deps());

    expect(report).toMatchObject({ failed: 1, unknown: 0 });
    expect(report.actions[0]?.reason).toMatch(
      /^reaped: 3 looks in a row could not tell whether it is in use \(.+\), and none of its instances runs \(stopped, stopped, stopped\): FAILED, every instance terminated$/,
    );
    const failed = await h.latest();
    expect(failed).toMatchObject({ state: 'FAILED', failure: { step: 'reaper' } });
    expect(failed.unknownLooks).toBeUndefined();
    expect(h.provider.alive(h.cluster.id)).toEqual([]);
  });

  it('keeps a stopped notebook when it FAILs the cluster: it may hold unsaved work', async () => {
    await sweep.readyCluster();
    const [request] = h.provider.launchRequests();
    const [notebook] = await h.provider.launch({
      ...request!,
      role: 'notebook',
      idempotencyToken: 'nb',
      count: 1,
    });
    sweep.scheduler = undefined;
    await h.provider.stop(h.provider.alive(h.cluster.id).map((machine) => machine.id));
    const once = sweep.deps({ reaper: { ...REAPER_DEFAULTS, unknownLooksBeforeFailed: 1 } });

    const report = await sweepClusters(once);

    expect(report).toMatchObject({ failed: 1 });
    expect(report.actions[0]?.reason).toMatch(
      new RegExp(
        `: FAILED, its notebook ${notebook!.id} is kept stopped with its volumes, since it may hold unsaved work; destroy the cluster to remove it$`,
      ),
    );
    expect(h.provider.alive(h.cluster.id).map((machine) => [machine.id, machine.state])).toEqual([
      [notebook!.id, 'stopped'],
    ]);
    expect((await h.eventsOf('reaper')).map((event) => event.message)).toContain(
      `its notebook ${notebook!.id} is kept stopped with its volumes, since it may hold unsaved work; destroy the cluster to remove it`,
    );
  });

  it('never FAILs a cluster whose machines run, however many looks could not tell', async () => {
    await sweep.readyCluster();
    sweep.scheduler = undefined;
    for (let i = 0; i < 6; i++) await sweepClusters(sweep.deps());
    expect(await h.latest()).toMatchObject({ state: 'READY', unknownLooks: 6 });
  });

  it('starts counting again after a look that could tell', async () => {
    await sweep.readyCluster();
    await h.provider.stop(h.provider.alive(h.cluster.id).map((machine) => machine.id));
    const metrics = sweep.scheduler;
    sweep.scheduler = undefined;
    await sweepClusters(sweep.deps());
    await sweepClusters(sweep.deps());
    sweep.scheduler = metrics;
    await sweepClusters(sweep.deps());
    expect((await h.latest()).unknownLooks).toBeUndefined();

    sweep.scheduler = undefined;
    await sweepClusters(sweep.deps());
    await sweepClusters(sweep.deps());
    expect(await h.latest()).toMatchObject({ state: 'READY', unknownLooks: 2 });
  });

  it('never FAILs for unknown looks when unknownLooksBeforeFailed is 0', async () => {
    await sweep.readyCluster();
    sweep.scheduler = undefined;
    await h.provider.stop(h.provider.alive(h.cluster.id).map((machine) => machine.id));
    const never = sweep.deps({ reaper: { ...REAPER_DEFAULTS, unknownLooksBeforeFailed: 0 } });
    for (let i = 0; i < 5; i++) await sweepClusters(never);
    expect((await h.latest()).state).toBe('READY');
  });

  it('says what it would do in a dry run, and changes nothing', async () => {
    await sweep.readyCluster();
    sweep.scheduler = undefined;
    await h.provider.stop(h.provider.alive(h.cluster.id).map((machine) => machine.id));
    const once = sweep.deps({ reaper: { ...REAPER_DEFAULTS, unknownLooksBeforeFailed: 1 } });
    const before = await h.latest();

    const report = await sweepClusters(once, { dryRun: true });

    expect(report).toMatchObject({ failed: 1, actions: [{ action: 'fail' }] });
    expect(report.actions[0]?.reason).toMatch(/^reaped: 1 looks in a row/);
    expect(await h.latest()).toEqual(before);
    expect(h.provider.callsOf('terminate')).toBe(0);
  });
});
