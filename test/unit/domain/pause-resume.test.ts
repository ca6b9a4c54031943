import { describe, expect, it } from 'vitest';
import { STOP_TIMEOUT_SECONDS } from '../../../lambdas/domain/deadlines.ts';
import { IllegalTransitionError, NotOwnerError } from '../../../lambdas/domain/errors.ts';
import { pauseCluster, resumeCluster } from '../../../lambdas/domain/use-cases/pause-cluster.ts';
import { describeVolumes } from '../../../lambdas/domain/volumes.ts';
import { recordReady } from '../../../lambdas/domain/workflow/record-ready.ts';
import { ADMIN_ROLE_ARN, ALICE_ARN, BOB_ARN } from '../../support/api-events.ts';
import { RecordingWorkflows } from '../../support/api-harness.ts';
import { useWorkflowHarness } from '../../support/workflow-harness.ts';
import { aPlan } from '../cli/fakes.ts';

const h = useWorkflowHarness();

async function readyCluster() {
  await h.launchAll();
  await recordReady({ clusterId: h.cluster.id }, h.deps());
}

function deps(workflows = new RecordingWorkflows()) {
  return {
    store: h.testStore.store,
    workflows,
    clock: h.testStore.clock,
    access: { admins: [ADMIN_ROLE_ARN] },
  };
}

describe('pauseCluster', () => {
  it('moves a READY cluster to PAUSING with the stop deadline and starts the pause workflow', async () => {
    await readyCluster();
    const workflows = new RecordingWorkflows();
    const before = await h.latest();

    const cluster = await pauseCluster('analytics', { principal: ALICE_ARN }, deps(workflows));

    expect(cluster.state).toBe('PAUSING');
    expect(cluster.deadline).toBe(
      new Date(h.testStore.clock.now().getTime() + STOP_TIMEOUT_SECONDS * 1000).toISOString(),
    );
    expect(workflows.started).toEqual([
      {
        workflow: 'pause',
        executionName: `${h.cluster.id}-pause-v${before.version + 1}`,
        input: { clusterId: h.cluster.id, requestedAt: h.testStore.clock.now().toISOString() },
      },
    ]);
    expect((await h.eventsOf('pause-requested')).map((event) => event.message)).toEqual([
      `pause requested by ${ALICE_ARN}`,
    ]);
  });

  it('records why the cluster was paused: who asked, or the reaper and its reason', async () => {
    await readyCluster();

    const byAlice = await pauseCluster('analytics', { principal: ALICE_ARN }, deps());
    expect(byAlice.pauseReason).toBe(`pause requested by ${ALICE_ARN}`);

    await h.testStore.store.transition(h.cluster.id, {
      name: 'analytics',
      from: ['PAUSING'],
      to: 'READY',
      event: { step: 'test', message: 'resumed' },
    });
    const reason =
      'reaped: idle for 61 min; paused instead: unsaved work in its notebook (unpushed in analysis)';
    const byReaper = await pauseCluster('analytics', { system: 'reaper', reason }, deps());
    expect(byReaper.pauseReason).toBe(`${reason}: pause (reaper)`);
    expect((await h.eventsOf('pause-requested')).at(-1)?.message).toBe(`${reason}: pause (reaper)`);
  });

  it('answers the same record when asked again while pausing', async () => {
    await readyCluster();
    const workflows = new RecordingWorkflows();
    const first = await pauseCluster('analytics', { principal: ALICE_ARN }, deps(workflows));

    const again = await pauseCluster('analytics', { principal: ALICE_ARN }, deps(workflows));

    expect(again.version).toBe(first.version);
    expect(workflows.started).toHaveLength(1);
  });

  it('lets an admin pause, and refuses anyone else', async () => {
    await readyCluster();

    await expect(pauseCluster('analytics', { principal: BOB_ARN }, deps())).rejects.toThrow(NotOwnerError);
    expect((await h.latest()).state).toBe('READY');
    const paused = await pauseCluster('analytics', { principal: `${ADMIN_ROLE_ARN}` }, deps());
    expect(paused.state).toBe('PAUSING');
  });

  it('refuses a cluster that is not READY, with a hint', async () => {
    await h.launchAll();

    await expect(pauseCluster('analytics', { principal: ALICE_ARN }, deps())).rejects.toThrow(
      IllegalTransitionError,
    );
  });

  it('puts the cluster back to READY, saying so, when the workflow cannot start', async () => {
    await readyCluster();
    const workflows = new RecordingWorkflows();
    workflows.failure = new Error('Rate exceeded');

    await expect(pauseCluster('analytics', { principal: ALICE_ARN }, deps(workflows))).rejects.toThrow(
      'Rate exceeded',
    );
    expect((await h.latest()).state).toBe('READY');
    expect((await h.eventsOf('start-workflow')).map((event) => event.message)).toEqual([
      'the pause workflow could not start: Rate exceeded; nothing was paused, run pause again to retry',
    ]);
  });
});

describe('resumeCluster', () => {
  it('refuses a cluster that is not paused', async () => {
    await readyCluster();

    await expect(resumeCluster('analytics', { principal: ALICE_ARN }, deps())).rejects.toThrow(
      'It is not paused.',
    );
  });

  it('moves a PAUSED cluster to RESUMING with the ready_timeout deadline, clearing an earlier failure', async () => {
    await readyCluster();
    await pauseCluster('analytics', { principal: ALICE_ARN }, deps());
    await h.testStore.store.transition(h.cluster.id, {
      name: 'analytics',
      from: ['PAUSING'],
      to: 'PAUSED',
      changes: { failure: { step: 'probe-ready', message: 'an earlier resume failed' } },
      event: { step: 'test', message: 'paused' },
    });
    const workflows = new RecordingWorkflows();

    const cluster = await resumeCluster('analytics', { principal: ALICE_ARN }, deps(workflows));

    expect(cluster.state).toBe('RESUMING');
    expect(cluster.failure).toBeUndefined();
    expect(cluster.deadline).toBe(
      new Date(h.testStore.clock.now().getTime() + cluster.plan.readyTimeoutSeconds * 1000).toISOString(),
    );
    expect(workflows.started.map((started) => started.workflow)).toEqual(['resume']);
  });
});

describe('describeVolumes', () => {
  const withSizes = (scheduler?: number, worker?: number) => {
    const plan = aPlan();
    const sizes = { scheduler, worker } as Record<string, number | undefined>;
    return {
      roles: plan.roles.map((role) => ({
        ...role,
        instance: { ...role.instance, ...(sizes[role.role] ? { vol_size: sizes[role.role] } : {}) },
      })),
    };
  };

  it.each([
    [40, 40, '3 × 40 GiB'],
    [40, 100, '1 × 40 GiB + 2 × 100 GiB = 240 GiB'],
    [undefined, undefined, "3 × the image's root size"],
    [40, undefined, "1 × 40 GiB + 2 × the image's root size"],
  ])('says scheduler %s GiB, workers %s GiB as %s', (scheduler, worker, text) => {
    expect(describeVolumes(withSizes(scheduler, worker))).toBe(text);
  });
});
