import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryClusterStore } from '../../../lambdas/adapters/memory/cluster-store.ts';
import { MemoryCommandStore } from '../../../lambdas/adapters/memory/command-store.ts';
import type { HttpAnswer, ProbeRequest, ReadinessProbe } from '../../../lambdas/domain/ports.ts';
import { REAPER_DEFAULTS } from '../../../lambdas/domain/reaper/rules.ts';
import { type SweepDeps, sweepClusters } from '../../../lambdas/domain/use-cases/sweep-clusters.ts';
import { checkMachines } from '../../../lambdas/domain/workflow/check-machines.ts';
import { recordReady } from '../../../lambdas/domain/workflow/record-ready.ts';
import type { Cluster } from '../../../schemas/types.generated.ts';
import { RecordingWorkflows } from '../../support/api-harness.ts';
import { ScriptedRemote } from '../../support/fake-remote.ts';
import { useWorkflowHarness } from '../../support/workflow-harness.ts';

const h = useWorkflowHarness();
const MINUTE = 60_000;

/** What the scheduler's /metrics says: nothing running, no client, `transitions` task transitions so far. */
let scheduler: { clients: number; processing: number; transitions: number } | undefined;
let workflows: RecordingWorkflows;
let commands: MemoryCommandStore;
let commandIds = 0;

const probe: ReadinessProbe = {
  async look(requests: Readonly<Record<string, ProbeRequest>>) {
    const answers: Record<string, HttpAnswer | undefined> = {};
    for (const name of Object.keys(requests)) {
      if (name !== 'metrics' || !scheduler) continue;
      answers[name] = {
        status: 200,
        body: [
          '# HELP dask_scheduler_clients Number of clients connected',
          `dask_scheduler_clients ${scheduler.clients}.0`,
          `dask_scheduler_tasks{state="processing"} ${scheduler.processing}.0`,
          'dask_scheduler_tasks{state="waiting"} 0.0',
          `dask_scheduler_prefix_state_totals_total{state="memory",task_prefix_name="sum"} ${scheduler.transitions}.0`,
        ].join('\n'),
      };
    }
    return answers;
  },
};

function deps(overrides: Partial<SweepDeps> = {}): SweepDeps {
  return {
    ...h.deps(),
    workflows,
    commands,
    destroyTimeoutSeconds: 600,
    access: { admins: [] },
    servicesProbe: { probe, network: 'private', secrets: h.deps().secrets },
    reaper: REAPER_DEFAULTS,
    newCommandId: () => `cmd-${(++commandIds).toString(16).padStart(16, '0')}`,
    sleep: async () => {},
    ...overrides,
  };
}

/** The seeded cluster launched and READY, its plan's limits as given (the plan is fixed when it is recorded). */
async function readyCluster(plan: Partial<Cluster['plan']> = {}): Promise<Cluster> {
  const { clock } = h.testStore;
  h.testStore = { store: new MemoryClusterStore({ clock }), clock };
  h.cluster = { ...h.cluster, plan: { ...h.cluster.plan, ...plan } };
  await h.testStore.store.create(h.cluster, { step: 'accepted', message: 'create requested' });
  await h.launchAll();
  await checkMachines({ clusterId: h.cluster.id, want: 'running' }, h.deps());
  await recordReady({ clusterId: h.cluster.id }, h.deps());
  return h.latest();
}

beforeEach(() => {
  scheduler = { clients: 0, processing: 0, transitions: 5 };
  workflows = new RecordingWorkflows();
  commands = new MemoryCommandStore();
});

describe('sweepClusters', () => {
  it('stamps idleSince on the first sweep that sees a READY cluster idle, and destroys it once idle_timeout has passed, with the reason', async () => {
    await readyCluster();

    const first = await sweepClusters(deps());
    expect(first).toMatchObject({ checked: 1, idle: 1, destroyed: 0, unknown: 0 });
    const stamped = await h.latest();
    expect(stamped.idleSince).toBe(h.testStore.clock.now().toISOString());

    h.testStore.clock.advance(59 * MINUTE);
    expect(await sweepClusters(deps())).toMatchObject({ idle: 1, destroyed: 0 });
    expect((await h.latest()).state).toBe('READY');

    h.testStore.clock.advance(2 * MINUTE);
    const last = await sweepClusters(deps());
    expect(last).toMatchObject({ idle: 1, destroyed: 1 });
    expect(last.actions).toEqual([
      { cluster: 'analytics', action: 'destroy', reason: 'reaped: idle for 61 min' },
    ]);
    const reaped = await h.latest();
    expect(reaped.state).toBe('DESTROYING');
    expect(reaped.destroyReason).toBe('reaped: idle for 61 min: destroy (reaper)');
    expect((await h.eventsOf('reaper')).map((event) => event.message)).toEqual(['reaped: idle for 61 min']);
    expect(workflows.started.map((started) => started.workflow)).toEqual(['destroy']);
  });

  it('clears idleSince when tasks ran since the last look, or a client is connected, or tasks are processing', async () => {
    await readyCluster();
    for (const activity of [
      () => (scheduler!.transitions += 3),
      () => (scheduler!.clients = 1),
      () => (scheduler!.processing = 2),
    ]) {
      scheduler = { clients: 0, processing: 0, transitions: scheduler!.transitions };
      await sweepClusters(deps());
      expect((await h.latest()).idleSince).toBeDefined();

      activity();
      h.testStore.clock.advance(61 * MINUTE);
      expect(await sweepClusters(deps())).toMatchObject({ idle: 0, destroyed: 0 });
      expect((await h.latest()).idleSince).toBeUndefined();
    }
    expect((await h.latest()).state).toBe('READY');
  });

  it('counts a cluster whose services do not answer as unknown, never idle, and never destroys it for idleness', async () => {
    await readyCluster();
    await sweepClusters(deps());
    scheduler = undefined;

    h.testStore.clock.advance(120 * MINUTE);
    expect(await sweepClusters(deps())).toMatchObject({ idle: 0, unknown: 1, destroyed: 0 });
    expect(await h.latest()).toMatchObject({ state: 'READY' });
    expect((await h.latest()).idleSince).toBeUndefined();
  });

  it('keeps a cluster with a remote command running', async () => {
    await readyCluster();
    await sweepClusters(deps());
    await commands.putCommand({
      id: 'cmd-1',
      clusterId: h.cluster.id,
      kind: 'rcmd',
      what: 'sleep 7200',
      target: 'scheduler',
      requestedBy: 'alice',
      state: 'RUNNING',
      createdAt: h.testStore.clock.now().toISOString(),
      timeoutSeconds: 7200,
      invocations: [],
    });

    h.testStore.clock.advance(61 * MINUTE);
    expect(await sweepClusters(deps())).toMatchObject({ idle: 0, destroyed: 0 });
    expect((await h.latest()).idleSince).toBeUndefined();
  });

  it('never destroys for idleness when idle_timeout is 0', async () => {
    await readyCluster({ idleTimeoutSeconds: 0 });
    await sweepClusters(deps());
    h.testStore.clock.advance(600 * MINUTE);
    expect(await sweepClusters(deps())).toMatchObject({ destroyed: 0 });
    expect((await h.latest()).state).toBe('READY');
  });

  it('destroys a cluster past its max_lifetime whatever it does, and the deployment ceiling caps the profile', async () => {
    await readyCluster({ maxLifetimeSeconds: 7200 });
    scheduler!.processing = 4;

    h.testStore.clock.advance(90 * MINUTE);
    const capped = deps({ reaper: { ...REAPER_DEFAULTS, maxLifetimeCeilingSeconds: 3600 } });
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
    await readyCluster({ maxLifetimeSeconds: 3600 });
    const before = await h.latest();
    h.testStore.clock.advance(61 * MINUTE);

    const report = await sweepClusters(deps(), { dryRun: true });

    expect(report).toMatchObject({ dryRun: true, destroyed: 1 });
    expect(report.actions[0]).toMatchObject({ action: 'destroy' });
    expect(await h.latest()).toEqual(before);
    expect(workflows.started).toEqual([]);
  });

  it('acts once when two sweeps run at once', async () => {
    await readyCluster({ maxLifetimeSeconds: 3600 });
    h.testStore.clock.advance(61 * MINUTE);

    const reports = await Promise.all([sweepClusters(deps()), sweepClusters(deps())]);

    expect(reports.reduce((sum, report) => sum + report.destroyed, 0)).toBe(1);
    expect(workflows.started).toHaveLength(1);
    expect(await h.eventsOf('reaper')).toHaveLength(1);
  });

  it('never destroys a PAUSED cluster for idleness; paused_max_age, when set, does', async () => {
    await readyCluster();
    await h.testStore.store.transition(h.cluster.id, {
      name: 'analytics',
      from: ['READY'],
      to: 'PAUSED',
      event: { step: 'test', message: 'paused' },
    });
    h.testStore.clock.advance(600 * MINUTE);
    expect(await sweepClusters(deps())).toMatchObject({ destroyed: 0, idle: 0 });
    expect((await h.latest()).state).toBe('PAUSED');

    const report = await sweepClusters(deps({ reaper: { ...REAPER_DEFAULTS, pausedMaxAgeSeconds: 86_400 } }));
    expect(report).toMatchObject({ destroyed: 0 });
    h.testStore.clock.advance(1000 * MINUTE);
    const aged = await sweepClusters(deps({ reaper: { ...REAPER_DEFAULTS, pausedMaxAgeSeconds: 86_400 } }));
    expect(aged.actions[0]?.reason).toMatch(/^reaped: paused for 26 h 40 min/);
    expect((await h.latest()).state).toBe('DESTROYING');
  });

  it('rolls back a CREATING cluster past its deadline, and one whose workflow no longer runs, but not one whose workflow runs', async () => {
    await h.launchAll();
    const arn = 'arn:aws:states:eu-west-1:123456789012:execution:bilbo-create:c-1-create';
    await h.testStore.store.update(h.cluster.id, { changes: { executionArn: arn } });
    workflows.running.add(arn);

    h.testStore.clock.advance(2 * MINUTE);
    expect(await sweepClusters(deps())).toMatchObject({ failed: 0 });
    expect((await h.latest()).state).toBe('CREATING');

    workflows.running.delete(arn);
    const report = await sweepClusters(deps());
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
    const report = await sweepClusters(deps());
    expect(report.actions[0]?.reason).toMatch(/^stuck creating past its deadline: rolled back/);
    expect((await h.latest()).state).toBe('FAILED');
  });

  describe('before it destroys a cluster with a notebook', () => {
    async function withNotebook(): Promise<void> {
      await readyCluster({ maxLifetimeSeconds: 3600 });
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

      const report = await sweepClusters(deps());

      expect(h.remote.sent.map((sent) => sent.instances.map((i) => i.id))).toEqual([['i-notebook']]);
      expect(report).toMatchObject({ destroyed: 0, paused: 1 });
      expect(report.actions[0]?.reason).toBe(
        'reaped: reached its max_lifetime of 60 min (61 min old); paused instead: unsaved work in its notebook (unpushed in work)',
      );
      expect((await h.latest()).state).toBe('PAUSING');
      expect(workflows.started.map((started) => started.workflow)).toEqual(['pause']);
    });

    it('pauses instead when the check cannot run, or does not finish', async () => {
      await withNotebook();
      h.remote = new ScriptedRemote(() => ({ stdout: 'repo\twork\n' }));
      const report = await sweepClusters(deps());
      expect(report.actions[0]?.reason).toMatch(
        /paused instead: its notebook could not be checked for unsaved work/,
      );
      expect((await h.latest()).state).toBe('PAUSING');
    });

    it('destroys it when the check finished and found nothing', async () => {
      await withNotebook();
      h.remote = new ScriptedRemote(() => ({ stdout: 'repo\twork\ndone\n' }));
      expect(await sweepClusters(deps())).toMatchObject({ destroyed: 1, paused: 0 });
      expect((await h.latest()).state).toBe('DESTROYING');
    });

    it('never destroys a PAUSED cluster with a notebook for paused_max_age: its work cannot be checked', async () => {
      await withNotebook();
      h.remote = new ScriptedRemote(() => ({ stdout: 'unpushed\t1\t.\ndone\n' }));
      await sweepClusters(deps());
      const paused = await h.latest();
      await h.testStore.store.transition(h.cluster.id, {
        name: paused.name,
        from: ['PAUSING'],
        to: 'PAUSED',
        event: { step: 'test', message: 'paused' },
      });
      h.testStore.clock.advance(100 * 24 * 60 * MINUTE);
      const aged = deps({ reaper: { ...REAPER_DEFAULTS, pausedMaxAgeSeconds: 86_400 } });
      expect(await sweepClusters(aged)).toMatchObject({ destroyed: 0 });
      expect((await h.latest()).state).toBe('PAUSED');
    });
  });
});
