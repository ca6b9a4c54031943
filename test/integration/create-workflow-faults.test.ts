/**
 * The synthesized create and destroy workflows, run by the ASL interpreter
 * over the real handlers, DynamoDB Local and real Dask processes, with a
 * fault injected at each step in turn: every time, nothing launched
 * survives and the record says FAILED with the step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisioningError } from '../../lambdas/domain/errors.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

interface Fault {
  state: string;
  /** After: the step did its work (launched, recorded) and then failed. */
  when: 'before' | 'after';
}

let fault: Fault | undefined;
let harness: TestControlPlane;

const profile = { dask: { worker: { count: 2, nproc: 1, nthread: 1 } }, ready_timeout: 60 };

beforeAll(async () => {
  harness = await startTestControlPlane({
    runner: {
      waitOverrideMs: 50,
      retryOverrideMs: 0,
      interceptor: async (state, _payload, next) => {
        if (fault?.state !== state) return next();
        if (fault.when === 'after') await next();
        throw new ProvisioningError(`injected fault at ${state}`);
      },
    },
  });
});

afterAll(async () => {
  await harness?.stop();
});

async function createAndSettle(name: string) {
  await harness.api.createCluster({ name, profile });
  await harness.plane.runner.waitForIdle();
  return harness.api.getCluster(name);
}

describe('the create workflow', () => {
  it('creates a READY cluster whose scheduler has every worker', async () => {
    fault = undefined;
    const cluster = await createAndSettle('happy');

    expect(cluster.state).toBe('READY');
    expect(cluster.workersJoined).toBe(2);
    expect(cluster.instances?.map((instance) => instance.role).sort()).toEqual([
      'scheduler',
      'worker',
      'worker',
    ]);
    expect((await harness.liveProcesses(cluster.id)).length).toBeGreaterThanOrEqual(3);

    await harness.api.destroyCluster('happy');
    await harness.plane.runner.waitForIdle();
    expect((await harness.api.getCluster('happy')).state).toBe('DESTROYED');
    expect(await harness.liveProcesses(cluster.id)).toEqual([]);
  });

  it.each([
    { state: 'LaunchPrimary', when: 'after', step: 'launch-scheduler' },
    { state: 'LaunchMember', when: 'after', step: 'launch-members' },
    { state: 'CheckRunning', when: 'after', step: 'check-running' },
    { state: 'ProbeReady', when: 'after', step: 'probe-ready' },
    { state: 'StartInit', when: 'after', step: 'init' },
    { state: 'RecordReady', when: 'before', step: 'record-ready' },
  ] as const)(
    'rolls back a fault at $state: FAILED at $step, no process left',
    async ({ state, when, step }) => {
      fault = { state, when };
      const name = `fault-${step}`;
      const cluster = await createAndSettle(name);

      expect(cluster.state).toBe('FAILED');
      expect(cluster.failure).toMatchObject({
        step,
        error: 'ProvisioningError',
        message: `injected fault at ${state}`,
      });
      expect(await harness.liveProcesses(cluster.id)).toEqual([]);
      const events = await harness.api.events(name);
      expect(events.at(-1)).toMatchObject({ state: 'FAILED', step });
    },
  );

  it('frees the name of a failed cluster for the next create', async () => {
    fault = undefined;
    const cluster = await createAndSettle('fault-launch-scheduler');
    expect(cluster.state).toBe('READY');
    await harness.api.destroyCluster(cluster.name);
    await harness.plane.runner.waitForIdle();
  });
});

describe('the destroy workflow', () => {
  it('records FAILED when terminating keeps failing, and a second destroy finishes the job', async () => {
    fault = undefined;
    const cluster = await createAndSettle('stubborn');
    expect(cluster.state).toBe('READY');

    fault = { state: 'TerminateMachines', when: 'before' };
    await harness.api.destroyCluster('stubborn');
    await harness.plane.runner.waitForIdle();
    const failed = await harness.api.getCluster('stubborn');
    expect(failed.state).toBe('FAILED');
    expect(failed.failure?.step).toBe('terminate-machines');
    expect((await harness.liveProcesses(cluster.id)).length).toBeGreaterThanOrEqual(3);

    fault = undefined;
    await harness.api.destroyCluster('stubborn');
    await harness.plane.runner.waitForIdle();
    expect((await harness.api.getCluster('stubborn')).state).toBe('DESTROYED');
    expect(await harness.liveProcesses(cluster.id)).toEqual([]);
  });
});
