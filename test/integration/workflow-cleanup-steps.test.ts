/**
 * The compensating and destroy steps (rollbackCreate, terminateMachines,
 * recordDestroyed, recordDestroyFailed) against the real store on DynamoDB
 * Local and the in-memory fake provider: nothing tagged survives, and the
 * record says how the cluster ended.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DeadlineExceededError, ProvisioningError } from '../../lambdas/domain/errors.ts';
import { checkMachines } from '../../lambdas/domain/workflow/check-machines.ts';
import {
  recordDestroyed,
  recordDestroyFailed,
  terminateMachines,
} from '../../lambdas/domain/workflow/destroy-steps.ts';
import { rollbackCreate } from '../../lambdas/domain/workflow/rollback-create.ts';
import { useWorkflowHarness } from '../support/workflow-harness.ts';

const wf = useWorkflowHarness();
const { deps, latest, eventsOf, launchAll, launchStray, seedCluster } = wf;

const awsCause = (errorType: string, errorMessage: string) => ({
  Error: errorType,
  Cause: JSON.stringify({
    errorType,
    errorMessage,
    trace: [`${errorType}: ${errorMessage}`, '    at probeReady'],
  }),
});

describe('rollbackCreate', () => {
  beforeEach(async () => {
    await launchAll();
  });

  it('terminates every tagged machine, including one the record never learnt about', async () => {
    const stray = await launchStray();

    const out = await rollbackCreate(
      {
        clusterId: wf.cluster.id,
        failedStep: 'probe-ready',
        error: awsCause('ReadyTimeoutError', 'too slow'),
      },
      deps(),
    );

    expect(out).toEqual({ terminated: 4 });
    expect(wf.provider.machine(stray).state).toBe('terminated');
    expect(wf.provider.alive(wf.cluster.id)).toEqual([]);
  });

  it('records every instance terminated once none is left', async () => {
    await rollbackCreate({ clusterId: wf.cluster.id, failedStep: 'probe-ready' }, deps());

    const instances = (await latest()).instances ?? [];
    expect(instances).toHaveLength(3);
    expect(instances.map((instance) => instance.state)).toEqual(['terminated', 'terminated', 'terminated']);
  });

  it('records FAILED with the step, the error and the message parsed from an AWS-style Cause', async () => {
    await rollbackCreate(
      {
        clusterId: wf.cluster.id,
        failedStep: 'probe-ready',
        error: awsCause('ReadyTimeoutError', 'only 1/2 Dask workers joined within ready_timeout (60 s)'),
      },
      deps(),
    );

    expect(await latest()).toMatchObject({
      state: 'FAILED',
      failure: {
        step: 'probe-ready',
        error: 'ReadyTimeoutError',
        message: 'only 1/2 Dask workers joined within ready_timeout (60 s)',
      },
    });
    expect((await eventsOf('probe-ready')).at(-1)).toMatchObject({
      state: 'FAILED',
      message: 'failed at probe-ready: only 1/2 Dask workers joined within ready_timeout (60 s)',
    });
  });

  it('takes a plain Cause as the message', async () => {
    await rollbackCreate(
      {
        clusterId: wf.cluster.id,
        failedStep: 'launch-members',
        error: { Error: 'ProvisioningError', Cause: 'no capacity' },
      },
      deps(),
    );

    expect((await latest()).failure).toEqual({
      step: 'launch-members',
      error: 'ProvisioningError',
      message: 'no capacity',
    });
  });

  it('is idempotent: a second call does not fail and leaves the record FAILED as it was', async () => {
    const input = {
      clusterId: wf.cluster.id,
      failedStep: 'check-running',
      error: { Error: 'InstanceLostError', Cause: 'gone' },
    };
    await rollbackCreate(input, deps());
    const failed = await latest();

    const again = await rollbackCreate(input, deps());

    expect(again).toEqual({ terminated: 3 });
    expect(await latest()).toEqual(failed);
  });

  it('records FAILED at once while a machine refuses to die, saying so, and throws so the workflow retries', async () => {
    const stubborn = wf.provider.all()[1]!.id;
    wf.provider.refuseToDie(stubborn);
    const input = {
      clusterId: wf.cluster.id,
      failedStep: 'check-running',
      error: { Error: 'Error', Cause: 'boom' },
    };

    await expect(rollbackCreate(input, deps())).rejects.toThrow(ProvisioningError);
    await expect(rollbackCreate(input, deps())).rejects.toThrow(stubborn);
    expect(await latest()).toMatchObject({
      state: 'FAILED',
      failure: {
        step: 'check-running',
        message: expect.stringMatching(
          /^boom; the rollback could not confirm that every instance is gone \(.*i-/,
        ),
      },
    });
    // Not confirmed gone: the record does not say terminated.
    expect((await latest()).instances?.some((instance) => instance.state === 'terminated')).toBe(false);

    wf.provider.refuseToDie(stubborn, false);
    await rollbackCreate(input, deps());
    expect((await latest()).state).toBe('FAILED');
    expect(wf.provider.alive(wf.cluster.id)).toEqual([]);
  });

  it('leaves a cluster that is being destroyed to the destroy workflow', async () => {
    await wf.testStore.store.transition(wf.cluster.id, {
      name: wf.cluster.name,
      from: ['CREATING'],
      to: 'DESTROYING',
      event: { step: 'destroy-requested', message: 'destroy requested' },
    });

    await rollbackCreate({ clusterId: wf.cluster.id, failedStep: 'launch-members' }, deps());

    expect((await latest()).state).toBe('DESTROYING');
    expect(wf.provider.alive(wf.cluster.id)).toEqual([]);
  });
});

describe('the destroy steps', () => {
  beforeEach(async () => {
    await launchAll();
    await wf.testStore.store.transition(wf.cluster.id, {
      name: wf.cluster.name,
      from: ['CREATING'],
      to: 'DESTROYING',
      event: { step: 'destroy-requested', message: 'destroy requested' },
    });
  });

  it('terminateMachines terminates every tagged machine, the unrecorded too, and says how many', async () => {
    await launchStray();

    const out = await terminateMachines({ clusterId: wf.cluster.id }, deps());

    expect(out).toEqual({ terminated: 4 });
    expect(wf.provider.alive(wf.cluster.id)).toEqual([]);
    expect((await eventsOf('terminate')).map((event) => event.message)).toEqual(['terminating 3 instances']);
  });

  it('terminateMachines leaves a machine that survives to the checks, which give up at the deadline', async () => {
    const stubborn = wf.provider.all()[0]!.id;
    wf.provider.refuseToDie(stubborn);
    await wf.testStore.store.update(wf.cluster.id, {
      changes: { deadline: new Date(wf.testStore.clock.now().getTime() + 600_000).toISOString() },
    });
    const since = wf.testStore.clock.now().toISOString();

    await expect(terminateMachines({ clusterId: wf.cluster.id }, deps())).resolves.toEqual({ terminated: 3 });
    const look = await checkMachines({ clusterId: wf.cluster.id, want: 'terminated', since }, deps());
    wf.testStore.clock.advance(600_000);
    const late = checkMachines({ clusterId: wf.cluster.id, want: 'terminated', since }, deps());

    expect(look).toEqual({ done: false, running: 1, total: 1, waitSeconds: 2 });
    await expect(late).rejects.toThrow(DeadlineExceededError);
    await expect(late).rejects.toThrow(
      `could not confirm within 600 s that every instance is terminated; still seen: ${stubborn} running`,
    );
  });

  it('recordDestroyed moves DESTROYING to DESTROYED, records every instance terminated and frees the name', async () => {
    await terminateMachines({ clusterId: wf.cluster.id }, deps());

    await recordDestroyed({ clusterId: wf.cluster.id }, deps());

    const destroyed = await latest();
    expect(destroyed.state).toBe('DESTROYED');
    expect(destroyed.instances?.map((instance) => instance.state)).toEqual([
      'terminated',
      'terminated',
      'terminated',
    ]);
    await expect(seedCluster('analytics')).resolves.toMatchObject({ name: 'analytics' });
  });

  it('recordDestroyed succeeds when another writer bumps the version between its read and its write', async () => {
    const store = deps().store;
    let raced = false;
    const racing = Object.create(store) as typeof store;
    racing.get = async (id) => {
      const read = await store.get(id);
      if (!raced) {
        raced = true;
        // The API records the destroy's execution ARN while the workflow already runs.
        await store.update(id, { changes: { executionArn: 'arn:aws:states:local:0:execution:destroy:x' } });
      }
      return read;
    };

    await recordDestroyed({ clusterId: wf.cluster.id }, { store: racing });

    expect((await latest()).state).toBe('DESTROYED');
  });

  it('recordDestroyed answers DESTROYED again when retried after it succeeded', async () => {
    await recordDestroyed({ clusterId: wf.cluster.id }, deps());
    const destroyed = await latest();

    await expect(recordDestroyed({ clusterId: wf.cluster.id }, deps())).resolves.toEqual({
      state: 'DESTROYED',
    });
    expect(await latest()).toEqual(destroyed);
  });

  it('recordDestroyFailed records FAILED with the step and the reason, and says destroy can be retried', async () => {
    const out = await recordDestroyFailed(
      {
        clusterId: wf.cluster.id,
        failedStep: 'terminate-machines',
        error: awsCause('ProvisioningError', '1 instance(s) still running: i-0abc'),
      },
      deps(),
    );

    expect(out).toEqual({ state: 'FAILED' });
    expect((await latest()).failure).toEqual({
      step: 'terminate-machines',
      error: 'ProvisioningError',
      message: '1 instance(s) still running: i-0abc',
    });
    expect((await eventsOf('terminate-machines')).at(-1)?.message).toBe(
      'destroy failed at terminate-machines: 1 instance(s) still running: i-0abc; run destroy again to retry',
    );
  });
});
