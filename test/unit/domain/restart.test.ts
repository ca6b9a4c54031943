import { describe, expect, it } from 'vitest';
import {
  ClusterNotFoundError,
  DeadlineExceededError,
  IllegalTransitionError,
  NothingToRestartError,
  NotOwnerError,
  ServiceRestartError,
} from '../../../lambdas/domain/errors.ts';
import { restartCluster } from '../../../lambdas/domain/use-cases/restart-cluster.ts';
import { recordReady } from '../../../lambdas/domain/workflow/record-ready.ts';
import { recordRestarted, recordRestartFailed } from '../../../lambdas/domain/workflow/record-restart.ts';
import { checkRestart, restartRole } from '../../../lambdas/domain/workflow/restart-role.ts';
import { ADMIN_ROLE_ARN, ALICE_ARN, BOB_ARN } from '../../support/api-events.ts';
import { RecordingWorkflows } from '../../support/api-harness.ts';
import { fakeDaskProbe } from '../../support/fake-dask-probe.ts';
import { FakeServiceRestarter } from '../../support/fake-services.ts';
import { useWorkflowHarness } from '../../support/workflow-harness.ts';

const h = useWorkflowHarness();

async function readyCluster() {
  await h.launchAll();
  await recordReady({ clusterId: h.cluster.id }, h.deps());
  await h.testStore.store.update(h.cluster.id, { changes: { workersJoined: 2 } });
}

function restartDeps(workflows = new RecordingWorkflows()) {
  return {
    store: h.testStore.store,
    workflows,
    clock: h.testStore.clock,
    access: { admins: [ADMIN_ROLE_ARN] },
  };
}

describe('restartCluster', () => {
  it('moves a READY cluster to RESTARTING with a deadline and starts the restart workflow, the scheduler first', async () => {
    await readyCluster();
    const workflows = new RecordingWorkflows();
    const before = await h.latest();

    const cluster = await restartCluster('analytics', { principal: ALICE_ARN }, restartDeps(workflows));

    expect(cluster.state).toBe('RESTARTING');
    expect(cluster.deadline).toBe(new Date(h.testStore.clock.now().getTime() + 60_000).toISOString());
    expect(cluster.executionArn).toMatch(/restart-v\d+$/);
    expect(workflows.started).toEqual([
      {
        workflow: 'restart',
        executionName: `${h.cluster.id}-restart-v${before.version + 1}`,
        input: {
          clusterId: h.cluster.id,
          requestedAt: h.testStore.clock.now().toISOString(),
          roles: ['scheduler', 'worker'],
        },
      },
    ]);
  });

  it('answers the same record when asked again while restarting', async () => {
    await readyCluster();
    const workflows = new RecordingWorkflows();
    const first = await restartCluster('analytics', { principal: ALICE_ARN }, restartDeps(workflows));

    const again = await restartCluster('analytics', { principal: ALICE_ARN }, restartDeps(workflows));

    expect(again.version).toBe(first.version);
    expect(workflows.started).toHaveLength(1);
  });

  it('lets an admin restart, and refuses anyone else', async () => {
    await readyCluster();

    await expect(restartCluster('analytics', { principal: BOB_ARN }, restartDeps())).rejects.toThrow(
      NotOwnerError,
    );
    expect((await restartCluster('analytics', { principal: ADMIN_ROLE_ARN }, restartDeps())).state).toBe(
      'RESTARTING',
    );
  });

  it('refuses a cluster that is not READY, with a hint', async () => {
    await expect(restartCluster('analytics', { principal: ALICE_ARN }, restartDeps())).rejects.toThrow(
      IllegalTransitionError,
    );
    await expect(restartCluster('analytics', { principal: ALICE_ARN }, restartDeps())).rejects.toThrow(
      'It is still being created; wait until it is READY.',
    );
    await expect(restartCluster('nope', { principal: ALICE_ARN }, restartDeps())).rejects.toThrow(
      ClusterNotFoundError,
    );
  });

  it('refuses a cluster with nothing to restart, and leaves it READY', async () => {
    await readyCluster();
    const cluster = await h.latest();
    // A cluster whose plan runs only a notebook, as a later kind might.
    const notebookOnly = {
      ...cluster,
      plan: { ...cluster.plan, roles: [{ ...cluster.plan.roles[0]!, role: 'notebook' as const }] },
    };
    const store = Object.create(h.testStore.store, { findByName: { value: async () => notebookOnly } });

    await expect(
      restartCluster('analytics', { principal: ALICE_ARN }, { ...restartDeps(), store }),
    ).rejects.toThrow(NothingToRestartError);
    await expect(
      restartCluster('analytics', { principal: ALICE_ARN }, { ...restartDeps(), store }),
    ).rejects.toThrow(
      "has nothing to restart: a restart restarts a cluster's compute services and leaves its notebook as it is",
    );
    expect((await h.latest()).state).toBe('READY');
  });

  it('goes back to READY when the workflow cannot start: nothing was restarted', async () => {
    await readyCluster();
    const workflows = new RecordingWorkflows();
    workflows.failure = new Error('states:StartExecution throttled');

    await expect(
      restartCluster('analytics', { principal: ALICE_ARN }, restartDeps(workflows)),
    ).rejects.toThrow('throttled');
    expect((await h.latest()).state).toBe('READY');
    expect((await h.eventsOf('start-workflow')).at(-1)?.message).toMatch(/nothing was restarted/);
  });
});

describe('the restart steps', () => {
  async function restarting() {
    await readyCluster();
    await restartCluster('analytics', { principal: ALICE_ARN }, restartDeps());
    return h.testStore.clock.now().toISOString();
  }

  it('restart a role on its instances, with a key per restart and role, and count its workers afresh', async () => {
    const requestedAt = await restarting();
    const services = new FakeServiceRestarter();

    const { ticketId } = await restartRole(
      { clusterId: h.cluster.id, role: 'worker', requestedAt },
      { store: h.testStore.store, services },
    );

    const workers = (await h.latest()).instances?.filter((instance) => instance.role === 'worker');
    expect(ticketId).toBe('restart-1');
    expect(services.requests).toEqual([
      expect.objectContaining({
        role: 'worker',
        kind: 'dask',
        instances: workers,
        restartKey: `${h.cluster.id}/${requestedAt}/worker`,
      }),
    ]);
    expect((await h.latest()).workersJoined).toBe(0);
  });

  it('look at a restart until done, and fail it with the instance and reason the restarter gives', async () => {
    const requestedAt = await restarting();
    const services = new FakeServiceRestarter();
    const input = { clusterId: h.cluster.id, role: 'scheduler' as const, requestedAt, ticketId: 't-1' };
    const deps = { store: h.testStore.store, services, clock: h.testStore.clock };

    services.behaviour = { kind: 'never' };
    expect(await checkRestart(input, deps)).toEqual({ done: false, waitSeconds: 2 });
    services.behaviour = { kind: 'done' };
    expect((await checkRestart(input, deps)).done).toBe(true);
    services.behaviour = { kind: 'fails', failure: 'i-1: the restart ended failed with exit code 5' };
    await expect(checkRestart(input, deps)).rejects.toThrow(ServiceRestartError);
    await expect(checkRestart(input, deps)).rejects.toThrow(
      'the scheduler services did not restart on i-1: the restart ended failed with exit code 5',
    );
  });

  it('give up on a restart past the deadline', async () => {
    const requestedAt = await restarting();
    const services = new FakeServiceRestarter();
    services.behaviour = { kind: 'never' };
    h.testStore.clock.advance(60_000);

    await expect(
      checkRestart(
        { clusterId: h.cluster.id, role: 'scheduler', requestedAt, ticketId: 't-1' },
        { store: h.testStore.store, services, clock: h.testStore.clock },
      ),
    ).rejects.toThrow(DeadlineExceededError);
  });

  it('record READY once restarted, and again on a retry', async () => {
    const requestedAt = await restarting();
    h.testStore.clock.advance(4_000);
    const deps = { store: h.testStore.store, clock: h.testStore.clock };

    expect(await recordRestarted({ clusterId: h.cluster.id, requestedAt }, deps)).toEqual({
      state: 'READY',
      seconds: 4,
    });
    expect((await recordRestarted({ clusterId: h.cluster.id, requestedAt }, deps)).state).toBe('READY');
    expect((await h.latest()).state).toBe('READY');
  });

  it('record a failed restart FAILED with the step and reason when the services do not answer', async () => {
    await restarting();
    const error = {
      Error: 'ReadyTimeoutError',
      Cause: 'only 1/2 Dask workers joined within ready_timeout (60 s)',
    };

    const outcome = await recordRestartFailed(
      { clusterId: h.cluster.id, failedStep: 'probe-ready', error },
      {
        store: h.testStore.store,
        probe: fakeDaskProbe(() => false, 0),
        secrets: h.deps().secrets,
        settings: { network: 'private' },
      },
    );

    expect(outcome).toEqual({ state: 'FAILED' });
    expect((await h.latest()).failure).toEqual({
      step: 'probe-ready',
      error: 'ReadyTimeoutError',
      message: 'only 1/2 Dask workers joined within ready_timeout (60 s)',
    });
  });

  it('record a failed restart READY when the services answer after all', async () => {
    await restarting();

    const outcome = await recordRestartFailed(
      { clusterId: h.cluster.id, failedStep: 'record-restarted', error: { Error: 'Error', Cause: 'lost' } },
      {
        store: h.testStore.store,
        probe: fakeDaskProbe(() => true, 2),
        secrets: h.deps().secrets,
        settings: { network: 'private' },
      },
    );

    const cluster = await h.latest();
    expect(outcome).toEqual({ state: 'READY' });
    expect(cluster).toMatchObject({ state: 'READY', workersJoined: 2 });
    expect(cluster.failure).toBeUndefined();
  });
});
