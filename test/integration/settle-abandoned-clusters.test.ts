/**
 * What a control plane does at start-up with the clusters an earlier one
 * left in progress: no cluster stays CREATING or DESTROYING for ever, and
 * no machine of a rolled-back create keeps running.
 */
import { describe, expect, it } from 'vitest';
import { DESTROY_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import {
  type SettleDeps,
  settleAbandonedClusters,
} from '../../lambdas/domain/use-cases/settle-abandoned-clusters.ts';
import { RecordingWorkflows } from '../support/api-harness.ts';
import { useWorkflowHarness } from '../support/workflow-harness.ts';

const wf = useWorkflowHarness();

function settleDeps(workflows = new RecordingWorkflows()): SettleDeps & { workflows: RecordingWorkflows } {
  return {
    ...wf.deps(),
    workflows,
    destroyTimeoutSeconds: DESTROY_TIMEOUT_SECONDS.default,
    access: { admins: [] },
  };
}

async function readyCluster() {
  await wf.launchAll();
  await wf.testStore.store.transition(wf.cluster.id, {
    name: wf.cluster.name,
    from: ['CREATING'],
    to: 'READY',
    event: { step: 'record-ready', message: 'ready' },
  });
}

describe('settleAbandonedClusters', () => {
  it('rolls back a create in progress: FAILED with the reason, every machine terminated', async () => {
    await wf.launchAll();
    expect(wf.provider.alive(wf.cluster.id).length).toBe(3);

    const settled = await settleAbandonedClusters(settleDeps(), {
      machinesEnded: false,
      system: 'bilbo local',
    });

    expect(settled).toEqual([
      { name: 'analytics', from: 'CREATING', action: 'rolled back: FAILED, every instance terminated' },
    ]);
    expect(await wf.latest()).toMatchObject({
      state: 'FAILED',
      failure: { step: 'control-plane', message: 'control plane stopped during the create' },
    });
    expect(wf.provider.alive(wf.cluster.id)).toEqual([]);
  });

  it('starts the destroy of a cluster left DESTROYING again, with a new deadline', async () => {
    await wf.launchAll();
    await wf.testStore.store.transition(wf.cluster.id, {
      name: wf.cluster.name,
      from: ['CREATING'],
      to: 'DESTROYING',
      changes: { deadline: '2000-01-01T00:00:00.000Z' },
      event: { step: 'destroy-requested', message: 'destroy requested' },
    });
    const deps = settleDeps();

    await settleAbandonedClusters(deps, { machinesEnded: false, system: 'bilbo local' });

    const latest = await wf.latest();
    expect(latest.state).toBe('DESTROYING');
    expect(Date.parse(latest.deadline ?? '')).toBe(
      wf.testStore.clock.now().getTime() + DESTROY_TIMEOUT_SECONDS.default * 1000,
    );
    expect(deps.workflows.started).toEqual([
      expect.objectContaining({
        workflow: 'destroy',
        input: expect.objectContaining({ clusterId: wf.cluster.id }),
      }),
    ]);
    expect((await wf.eventsOf('control-plane')).map((event) => event.message)).toEqual([
      'control plane stopped during the destroy; destroying it again',
    ]);
  });

  it('leaves a READY cluster alone when its machines outlive the plane (EC2)', async () => {
    await readyCluster();
    const deps = settleDeps();

    expect(await settleAbandonedClusters(deps, { machinesEnded: false, system: 'bilbo local' })).toEqual([]);
    expect((await wf.latest()).state).toBe('READY');
    expect(deps.workflows.started).toEqual([]);
  });

  it('destroys a READY cluster whose machines ended with the plane (local), saying why', async () => {
    await readyCluster();
    const deps = settleDeps();

    await settleAbandonedClusters(deps, { machinesEnded: true, system: 'bilbo local' });

    expect((await wf.latest()).state).toBe('DESTROYING');
    expect(deps.workflows.started.map((started) => started.workflow)).toEqual(['destroy']);
    expect((await wf.eventsOf('destroy-requested')).map((event) => event.message)).toEqual([
      "bilbo local stopped, and the cluster's local processes ended with it: destroy (bilbo local)",
    ]);
  });

  it('records FAILED, with the reason, a cluster left restarting', async () => {
    await readyCluster();
    await wf.testStore.store.transition(wf.cluster.id, {
      name: wf.cluster.name,
      from: ['READY'],
      to: 'RESTARTING',
      event: { step: 'restart-requested', message: 'restart' },
    });

    await settleAbandonedClusters(settleDeps(), { machinesEnded: false, system: 'bilbo local' });

    expect(await wf.latest()).toMatchObject({
      state: 'FAILED',
      failure: { step: 'control-plane', message: 'control plane stopped during the restart' },
    });
  });

  it('stops the machines of a cluster left resuming, keeping their volumes: FAILED with the reason', async () => {
    await readyCluster();
    for (const [from, to] of [
      ['READY', 'PAUSING'],
      ['PAUSING', 'PAUSED'],
      ['PAUSED', 'RESUMING'],
    ] as const) {
      await wf.testStore.store.transition(wf.cluster.id, {
        name: wf.cluster.name,
        from: [from],
        to,
        event: { step: 'test', message: to },
      });
    }

    const settled = await settleAbandonedClusters(settleDeps(), {
      machinesEnded: false,
      system: 'bilbo local',
    });

    expect(settled).toEqual([
      {
        name: 'analytics',
        from: 'RESUMING',
        action: 'FAILED, its instances were asked to stop, their volumes kept',
      },
    ]);
    expect(await wf.latest()).toMatchObject({
      state: 'FAILED',
      failure: {
        step: 'control-plane',
        message:
          'control plane stopped during the resume; its instances were asked to stop, their volumes kept',
      },
    });
    const machines = await wf.provider.describe((await wf.latest()).instances!.map((i) => i.id));
    expect(machines.map((machine) => machine.state)).toEqual(['stopped', 'stopped', 'stopped']);
  });

  it('goes on with the other clusters when one cannot be settled', async () => {
    await wf.launchAll();
    const second = await wf.seedCluster('second');
    const deps = settleDeps();
    deps.workflows.failure = new Error('Rate exceeded');
    await wf.testStore.store.transition(second.id, {
      name: second.name,
      from: ['CREATING'],
      to: 'DESTROYING',
      event: { step: 'destroy-requested', message: 'destroy requested' },
    });

    const settled = await settleAbandonedClusters(deps, { machinesEnded: false, system: 'bilbo local' });

    expect(settled.map((entry) => [entry.name, entry.action])).toEqual(
      expect.arrayContaining([
        ['second', 'could not settle it: Rate exceeded'],
        ['analytics', 'rolled back: FAILED, every instance terminated'],
      ]),
    );
    expect((await wf.testStore.store.get(second.id))?.state).toBe('FAILED');
  });
});
