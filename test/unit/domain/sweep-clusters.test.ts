import { describe, expect, it } from 'vitest';
import { REAPER_DEFAULTS } from '../../../lambdas/domain/reaper/rules.ts';
import { sweepClusters } from '../../../lambdas/domain/use-cases/sweep-clusters.ts';
import { ScriptedRemote } from '../../support/fake-remote.ts';
import { useSweepHarness } from '../../support/sweep-harness.ts';

const sweep = useSweepHarness();
const { h } = sweep;
const MINUTE = 60_000;

describe('sweepClusters', () => {
  it('stamps idleSince on the first sweep that sees a READY cluster idle, and destroys it once idle_timeout has passed, with the reason', async () => {
    await sweep.readyCluster();

    const first = await sweepClusters(sweep.deps());
    expect(first).toMatchObject({ checked: 1, idle: 1, destroyed: 0, unknown: 0 });
    const stamped = await h.latest();
    expect(stamped.idleSince).toBe(h.testStore.clock.now().toISOString());

    h.testStore.clock.advance(59 * MINUTE);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ idle: 1, destroyed: 0 });
    expect((await h.latest()).state).toBe('READY');

    h.testStore.clock.advance(2 * MINUTE);
    const last = await sweepClusters(sweep.deps());
    expect(last).toMatchObject({ idle: 1, destroyed: 1 });
    expect(last.actions).toEqual([
      { cluster: 'analytics', action: 'destroy', reason: 'reaped: idle for 61 min' },
    ]);
    const reaped = await h.latest();
    expect(reaped.state).toBe('DESTROYING');
    expect(reaped.destroyReason).toBe('reaped: idle for 61 min: destroy (reaper)');
    expect((await h.eventsOf('reaper')).map((event) => event.message)).toEqual(['reaped: idle for 61 min']);
    expect(sweep.workflows.started.map((started) => started.workflow)).toEqual(['destroy']);
  });

  it('clears idleSince when tasks ran since the last look, or a client is connected, or tasks are processing', async () => {
    await sweep.readyCluster();
    for (const activity of [
      () => (sweep.scheduler!.transitions += 3),
      () => (sweep.scheduler!.clients = 1),
      () => (sweep.scheduler!.processing = 2),
    ]) {
      sweep.scheduler = { clients: 0, processing: 0, transitions: sweep.scheduler!.transitions };
      await sweepClusters(sweep.deps());
      expect((await h.latest()).idleSince).toBeDefined();

      activity();
      h.testStore.clock.advance(61 * MINUTE);
      expect(await sweepClusters(sweep.deps())).toMatchObject({ idle: 0, destroyed: 0 });
      expect((await h.latest()).idleSince).toBeUndefined();
    }
    expect((await h.latest()).state).toBe('READY');
  });

  it('counts a cluster whose services do not answer as unknown, never idle, and never destroys it for idleness', async () => {
    await sweep.readyCluster();
    await sweepClusters(sweep.deps());
    sweep.scheduler = undefined;

    h.testStore.clock.advance(120 * MINUTE);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ idle: 0, unknown: 1, destroyed: 0 });
    expect(await h.latest()).toMatchObject({ state: 'READY' });
    expect((await h.latest()).idleSince).toBeUndefined();
  });

  it('keeps a cluster with a remote command running', async () => {
    await sweep.readyCluster();
    await sweepClusters(sweep.deps());
    await sweep.commands.putCommand({
      id: 'cmd-1',
      clusterId: h.cluster.id,
      kind: 'rcmd',
      what: 'sleep 7200',
      target: 'sweep.scheduler',
      requestedBy: 'alice',
      state: 'RUNNING',
      createdAt: h.testStore.clock.now().toISOString(),
      timeoutSeconds: 7200,
      invocations: [],
    });

    h.testStore.clock.advance(61 * MINUTE);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ idle: 0, destroyed: 0 });
    expect((await h.latest()).idleSince).toBeUndefined();
  });

  it('never destroys for idleness when idle_timeout is 0', async () => {
    await sweep.readyCluster({ idleTimeoutSeconds: 0 });
    await sweepClusters(sweep.deps());
    h.testStore.clock.advance(600 * MINUTE);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ destroyed: 0 });
    expect((await h.latest()).state).toBe('READY');
  });

  it('destroys a cluster past its max_lifetime whatever it does, and the deployment ceiling caps the profile', async () => {
    await sweep.readyCluster({ maxLifetimeSeconds: 7200 });
    sweep.scheduler!.processing = 4;

    h.testStore.clock.advance(90 * MINUTE);
    const capped = sweep.deps({ reaper: { ...REAPER_DEFAULTS, maxLifetimeCeilingSeconds: 3600 } });
    const report = await sweepClusters(capped);
    expect(report.actions).toEqual([
      {
        cluster: 'analytics',
        action: 'destroy',
        reason: 'reaped: reached its max_lifetime of 60 min (90 min old)',
      },
    ]);
    expect((await h.latest()).state).toBe('DESTROYING');
  });

  it('changes nothing in a dry run, and says what it would do', async () => {
    await sweep.readyCluster({ maxLifetimeSeconds: 3600 });
    const before = await h.latest();
    h.testStore.clock.advance(61 * MINUTE);

    const report = await sweepClusters(sweep.deps(), { dryRun: true });

    expect(report).toMatchObject({ dryRun: true, destroyed: 1 });
    expect(report.actions[0]).toMatchObject({ action: 'destroy' });
    expect(await h.latest()).toEqual(before);
    expect(sweep.workflows.started).toEqual([]);
  });

  it('acts once when two sweeps run at once', async () => {
    await sweep.readyCluster({ maxLifetimeSeconds: 3600 });
    h.testStore.clock.advance(61 * MINUTE);

    const reports = await Promise.all([sweepClusters(sweep.deps()), sweepClusters(sweep.deps())]);

    expect(reports.reduce((sum, report) => sum + report.destroyed, 0)).toBe(1);
    expect(sweep.workflows.started).toHaveLength(1);
    expect(await h.eventsOf('reaper')).toHaveLength(1);
  });

  it('never destroys a PAUSED cluster for idleness; paused_max_age, when set, does', async () => {
    await sweep.readyCluster();
    await h.testStore.store.transition(h.cluster.id, {
      name: 'analytics',
      from: ['READY'],
      to: 'PAUSED',
      event: { step: 'test', message: 'paused' },
    });
    h.testStore.clock.advance(600 * MINUTE);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ destroyed: 0, idle: 0 });
    expect((await h.latest()).state).toBe('PAUSED');

    const report = await sweepClusters(
      sweep.deps({ reaper: { ...REAPER_DEFAULTS, pausedMaxAgeSeconds: 86_400 } }),
    );
    expect(report).toMatchObject({ destroyed: 0 });
    h.testStore.clock.advance(1000 * MINUTE);
    const aged = await sweepClusters(
      sweep.deps({ reaper: { ...REAPER_DEFAULTS, pausedMaxAgeSeconds: 86_400 } }),
    );
    expect(aged.actions[0]?.reason).toMatch(/^reaped: paused for 26 h 40 min/);
    expect((await h.latest()).state).toBe('DESTROYING');
  });

  it('rolls back a CREATING cluster past its deadline, and one whose workflow no longer runs, but not one whose workflow runs', async () => {
    await h.launchAll();
    const arn = 'arn:aws:states:eu-west-1:123456789012:execution:bilbo-create:c-1-create';
    await h.testStore.store.update(h.cluster.id, { changes: { executionArn: arn } });
    sweep.workflows.running.add(arn);

    h.testStore.clock.advance(2 * MINUTE);
    expect(await sweepClusters(sweep.deps())).toMatchObject({ failed: 0 });
    expect((await h.latest()).state).toBe('CREATING');

    sweep.workflows.running.delete(arn);
    const report = await sweepClusters(sweep.deps());
    expect(report.actions).toEqual([
      {
        cluster: 'analytics',
        action: 'fail',
        reason:
          'stuck creating: its workflow is no longer running: rolled back: FAILED, every instance terminated',
      },
    ]);
    expect(await h.latest()).toMatchObject({ state: 'FAILED' });
    expect(h.provider.alive(h.cluster.id)).toEqual([]);
  });

  it('rolls back a CREATING cluster past its deadline and the grace, whatever its workflow says', async () => {
    await h.launchAll();
    h.testStore.clock.advance(60_000 + REAPER_DEFAULTS.stuckGraceSeconds * 1000);
    const report = await sweepClusters(sweep.deps());
    expect(report.actions[0]?.reason).toMatch(/^stuck creating past its deadline: rolled back/);
    expect((await h.latest()).state).toBe('FAILED');
  });

  describe('before it destroys a cluster with a notebook', () => {
    async function withNotebook(): Promise<void> {
      await sweep.readyCluster({ maxLifetimeSeconds: 3600 });
      await h.testStore.store.update(h.cluster.id, {
        changes: {
          roleInstances: {
            notebook: [{ id: 'i-notebook', role: 'notebook', index: 0, privateIp: '127.0.0.1' }],
          },
        },
      });
      h.testStore.clock.advance(61 * MINUTE);
    }

    it('runs the unsaved-work check there, and pauses instead when it finds unpushed commits', async () => {
      await withNotebook();
      h.remote = new ScriptedRemote(() => ({ stdout: 'repo\twork\nunpushed\t2\twork\ndone\n' }));

      const report = await sweepClusters(sweep.deps());

      expect(h.remote.sent.map((sent) => sent.instances.map((i) => i.id))).toEqual([['i-notebook']]);
      expect(report).toMatchObject({ destroyed: 0, paused: 1 });
      expect(report.actions[0]?.reason).toBe(
        'reaped: reached its max_lifetime of 60 min (61 min old); paused instead: unsaved work in its notebook (unpushed in work)',
      );
      expect((await h.latest()).state).toBe('PAUSING');
      expect(sweep.workflows.started.map((started) => started.workflow)).toEqual(['pause']);
    });

    it('pauses instead when the check cannot run, or does not finish', async () => {
      await withNotebook();
      h.remote = new ScriptedRemote(() => ({ stdout: 'repo\twork\n' }));
      const report = await sweepClusters(sweep.deps());
      expect(report.actions[0]?.reason).toMatch(
        /paused instead: its notebook could not be checked for unsaved work/,
      );
      expect((await h.latest()).state).toBe('PAUSING');
    });

    it('destroys it when the check finished and found nothing', async () => {
      await withNotebook();
      h.remote = new ScriptedRemote(() => ({ stdout: 'repo\twork\ndone\n' }));
      expect(await sweepClusters(sweep.deps())).toMatchObject({ destroyed: 1, paused: 0 });
      expect((await h.latest()).state).toBe('DESTROYING');
    });

    it('never destroys a PAUSED cluster with a notebook for paused_max_age: its work cannot be checked', async () => {
      await withNotebook();
      h.remote = new ScriptedRemote(() => ({ stdout: 'unpushed\t1\t.\ndone\n' }));
      await sweepClusters(sweep.deps());
      const paused = await h.latest();
      await h.testStore.store.transition(h.cluster.id, {
        name: paused.name,
        from: ['PAUSING'],
        to: 'PAUSED',
        event: { step: 'test', message: 'paused' },
      });
      h.testStore.clock.advance(100 * 24 * 60 * MINUTE);
      const aged = sweep.deps({ reaper: { ...REAPER_DEFAULTS, pausedMaxAgeSeconds: 86_400 } });
      expect(await sweepClusters(aged)).toMatchObject({ destroyed: 0 });
      expect((await h.latest()).state).toBe('PAUSED');
    });
  });
});
