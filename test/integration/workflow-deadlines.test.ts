/**
 * Every loop of the synthesized workflows ends by its deadline. The real
 * definitions, run by the ASL interpreter over the real handlers and
 * DynamoDB Local, against machines that never do what is waited for, on a
 * fake clock that each Wait state (and each pause of the probe) moves on:
 * every run ends in the right terminal state, with nothing left running
 * that could be stopped, in a bounded number of state transitions.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalPreflight } from '../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { DASK_PROGRAMS } from '../support/dask-launch.ts';
import { fakeClock } from '../support/fake-clock.ts';
import { fakeDaskProbe } from '../support/fake-dask-probe.ts';
import { FakeMachineProvider } from '../support/fake-provider.ts';
import { noRemoteCommands } from '../support/fake-remote.ts';
import { FakeServiceRestarter } from '../support/fake-services.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const clock = fakeClock('2026-06-01T00:00:00.000Z');
let provider: FakeMachineProvider;
const services = new FakeServiceRestarter();
let beforeTerminate: (() => void) | undefined;
/** Whether the probe's services answer: the dashboard, with every worker. */
let servicesUp = false;

/** A cluster's services as the probe sees them: nothing answers, or everything does. */
const probe = fakeDaskProbe(() => servicesUp, 2);

let harness: TestControlPlane;

beforeAll(async () => {
  const secrets = new MemorySecretStore();
  harness = await startTestControlPlane({
    providerAdapters: {
      remote: noRemoteCommands,
      // Replaced per test; the plane calls through this object.
      provider: {
        name: 'fake',
        launch: (request) => provider.launch(request),
        describe: (ids) => provider.describe(ids),
        stop: (ids) => provider.stop(ids),
        start: (ids) => provider.start(ids),
        terminate: (ids) => provider.terminate(ids),
        findByCluster: (id) => provider.findByCluster(id),
        findManaged: () => provider.findManaged(),
      },
      catalog: new LocalMachineCatalog({ facts: { vcpus: 1, threadsPerCore: 1, memoryMiB: 4096 } }),
      preflight: new LocalPreflight(DASK_PROGRAMS),
      secrets,
      services,
      probeNetwork: 'private',
      machinesOutliveThePlane: true,
    },
    probe,
    clock,
    // The probe's pauses pass on the fake clock.
    sleep: async (ms) => clock.advance(ms),
    probeSettings: { budgetMs: 55_000, intervalMs: 1_000 },
    runner: {
      waitOverrideMs: 0,
      retryOverrideMs: 0,
      interceptor: async (state, _payload, next) => {
        if (state === 'TerminateMachines') beforeTerminate?.();
        const result = (await next()) as { waitSeconds?: number } | undefined;
        // The Wait state after a check lasts what the check asked for, on the fake clock.
        if (typeof result?.waitSeconds === 'number') clock.advance(result.waitSeconds * 1000);
        return result;
      },
    },
  });
});

afterAll(async () => {
  await harness?.stop();
});

beforeEach(() => {
  servicesUp = false;
  beforeTerminate = undefined;
});

const profile = { dask: { worker: { count: 2, nproc: 1, nthread: 1 } }, ready_timeout: 600 };

async function settle(name: string): Promise<{ cluster: Cluster; transitions: number }> {
  await harness.plane.runner.waitForIdle();
  const cluster = await harness.api.getCluster(name);
  const executions = harness.plane.runner
    .executions()
    .filter((run) => (run.input as { clusterId?: string }).clusterId === cluster.id);
  const last = executions.at(-1);
  return { cluster, transitions: last ? harness.plane.runner.stateTransitions(last.executionArn) : 0 };
}

describe('the create workflow, past its deadline', () => {
  it('rolls back machines that stay pending: FAILED at check-running, nothing left', async () => {
    provider = new FakeMachineProvider({ pendingDescribes: Number.POSITIVE_INFINITY });
    const started = clock.now().getTime();

    await harness.api.createCluster({ name: 'stuck-pending', profile });
    const { cluster, transitions } = await settle('stuck-pending');

    expect(cluster.state).toBe('FAILED');
    expect(cluster.failure).toMatchObject({
      step: 'check-running',
      error: 'ReadyTimeoutError',
      message: expect.stringMatching(
        /^3 of 3 instances were not running within ready_timeout \(600 s\): i-\w+ pending/,
      ),
    });
    expect(provider.alive(cluster.id)).toEqual([]);
    // Gave up at the deadline, not long after it.
    expect(clock.now().getTime() - started).toBeGreaterThanOrEqual(600_000);
    expect(clock.now().getTime() - started).toBeLessThan(640_000);
    // 81 looks (every 2 s, then 5 s, then 10 s) of check, choice and wait, and the rollback: measured 250.
    expect(transitions).toBeLessThanOrEqual(260);
  });

  it('rolls back a cluster whose dashboard never answers: FAILED at probe-ready, nothing left', async () => {
    provider = new FakeMachineProvider();
    const started = clock.now().getTime();

    await harness.api.createCluster({ name: 'never-answers', profile });
    const { cluster, transitions } = await settle('never-answers');

    expect(cluster.state).toBe('FAILED');
    expect(cluster.failure).toMatchObject({
      step: 'probe-ready',
      error: 'ReadyTimeoutError',
      message: expect.stringMatching(/^the Dask dashboard did not answer within ready_timeout \(600 s\)/),
    });
    expect(provider.alive(cluster.id)).toEqual([]);
    expect(clock.now().getTime() - started).toBeLessThan(660_000);
    // One probe budget (55 s) at a time, the machines checked between two: measured 54.
    expect(transitions).toBeLessThanOrEqual(60);
  });
});

describe('the destroy workflow, past its deadline', () => {
  it('records FAILED naming the machines it still sees when they never report terminated', async () => {
    provider = new FakeMachineProvider();
    servicesUp = true;
    await harness.api.createCluster({ name: 'undying', profile });
    const ready = await settle('undying');
    expect(ready.cluster.state).toBe('READY');
    beforeTerminate = () => {
      for (const machine of provider.alive(ready.cluster.id)) provider.refuseToDie(machine.id);
    };
    const started = clock.now().getTime();

    await harness.api.destroyCluster('undying');
    const { cluster, transitions } = await settle('undying');

    expect(cluster.state).toBe('FAILED');
    expect(cluster.failure).toMatchObject({
      step: 'check-terminated',
      error: 'DeadlineExceededError',
      message: expect.stringMatching(
        /^could not confirm within 600 s that every instance is terminated; still seen: i-\w+ running, i-\w+ running, i-\w+ running/,
      ),
    });
    expect(clock.now().getTime() - started).toBeGreaterThanOrEqual(600_000);
    expect(clock.now().getTime() - started).toBeLessThan(640_000);
    // The same 81 looks as a stuck create, and the record of the failure: measured 248.
    expect(transitions).toBeLessThanOrEqual(260);
  });
});

describe('the restart workflow', () => {
  async function readyCluster(name: string): Promise<Cluster> {
    provider = new FakeMachineProvider();
    servicesUp = true;
    await harness.api.createCluster({ name, profile });
    const { cluster } = await settle(name);
    expect(cluster.state).toBe('READY');
    return cluster;
  }

  it('records FAILED at its deadline when a role never finishes restarting', async () => {
    const ready = await readyCluster('restart-stuck');
    services.behaviour = { kind: 'never' };
    const started = clock.now().getTime();

    await harness.api.restartCluster('restart-stuck');
    servicesUp = false;
    const { cluster, transitions } = await settle('restart-stuck');

    expect(cluster.state).toBe('FAILED');
    expect(cluster.failure).toMatchObject({
      step: 'restart-services',
      error: 'DeadlineExceededError',
      message: 'the scheduler services did not restart within ready_timeout (600 s)',
    });
    expect(clock.now().getTime() - started).toBeGreaterThanOrEqual(600_000);
    expect(clock.now().getTime() - started).toBeLessThan(640_000);
    expect(transitions).toBeLessThanOrEqual(260);
    // FAILED with the reason; the machines run on until the cluster is destroyed.
    expect(provider.alive(ready.id)).toHaveLength(3);
  });

  it('records FAILED with the reason when the services do not answer after the restart', async () => {
    await readyCluster('restart-silent');
    services.behaviour = { kind: 'done' };

    await harness.api.restartCluster('restart-silent');
    servicesUp = false;
    const { cluster } = await settle('restart-silent');

    expect(cluster.state).toBe('FAILED');
    expect(cluster.failure).toMatchObject({
      step: 'probe-ready',
      error: 'ReadyTimeoutError',
      message: expect.stringMatching(/^the Dask dashboard did not answer within ready_timeout \(600 s\)/),
    });
  });

  it('records READY when a role reports a failure but the services answer again', async () => {
    await readyCluster('restart-back');
    services.behaviour = { kind: 'fails', failure: 'i-0abc: the restart ended failed with exit code 1' };

    await harness.api.restartCluster('restart-back');
    const { cluster } = await settle('restart-back');
    const events = await harness.api.events('restart-back');

    expect(cluster.state).toBe('READY');
    expect(cluster.failure).toBeUndefined();
    expect(events.at(-1)).toMatchObject({
      state: 'READY',
      step: 'restart-services',
      message: expect.stringMatching(
        /^restart failed at restart-services: the scheduler services did not restart on i-0abc: .*; the services answer again \(2\/2 workers joined\): READY$/,
      ),
    });
  });

  it('restarts the roles the kind names, the scheduler first, and records READY once ready again', async () => {
    const ready = await readyCluster('restart-ok');
    services.behaviour = { kind: 'done' };
    services.requests.length = 0;

    const restarting = await harness.api.restartCluster('restart-ok');
    expect(restarting.state).toBe('RESTARTING');
    const { cluster } = await settle('restart-ok');

    expect(cluster.state).toBe('READY');
    expect(cluster.workersJoined).toBe(2);
    expect(services.roles()).toEqual(['scheduler', 'worker']);
    expect(services.requests[1]?.instances.map((instance) => instance.id).sort()).toEqual(
      (ready.instances ?? [])
        .filter((instance) => instance.role === 'worker')
        .map((instance) => instance.id)
        .sort(),
    );
  });
});
