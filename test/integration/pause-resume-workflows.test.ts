/**
 * The synthesized pause and resume workflows, run by the ASL interpreter
 * over the real handlers and DynamoDB Local, against machines that do, or
 * never do, what is waited for, on a fake clock: every run ends PAUSED,
 * READY or FAILED with the reason, and never with machines running that
 * the record says are stopped.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalPreflight } from '../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import { STOP_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { DASK_PROGRAMS } from '../support/dask-launch.ts';
import { fakeClock } from '../support/fake-clock.ts';
import { fakeDaskProbe } from '../support/fake-dask-probe.ts';
import { awsError, FakeMachineProvider } from '../support/fake-provider.ts';
import { noRemoteCommands } from '../support/fake-remote.ts';
import { FakeServiceRestarter } from '../support/fake-services.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const clock = fakeClock('2026-06-01T00:00:00.000Z');
let provider: FakeMachineProvider;
/** Whether the probe's services answer: the dashboard, with every worker. */
let servicesUp = true;

const probe = fakeDaskProbe(() => servicesUp, 2);

let harness: TestControlPlane;

beforeAll(async () => {
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
      secrets: new MemorySecretStore(),
      services: new FakeServiceRestarter(),
      probeNetwork: 'private',
      machinesOutliveThePlane: true,
    },
    probe,
    clock,
    sleep: async (ms) => clock.advance(ms),
    probeSettings: { budgetMs: 55_000, intervalMs: 1_000 },
    runner: {
      waitOverrideMs: 0,
      retryOverrideMs: 0,
      interceptor: async (_state, _payload, next) => {
        const result = (await next()) as { waitSeconds?: number } | undefined;
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
  servicesUp = true;
  provider = new FakeMachineProvider();
});

const profile = { dask: { worker: { count: 2, nproc: 1, nthread: 1 } }, ready_timeout: 600 };

async function settle(name: string): Promise<Cluster> {
  await harness.plane.runner.waitForIdle();
  return harness.api.getCluster(name);
}

async function readyCluster(name: string): Promise<Cluster> {
  await harness.api.createCluster({ name, profile });
  const cluster = await settle(name);
  expect(cluster.state).toBe('READY');
  return cluster;
}

const statesOf = (cluster: Cluster) =>
  (cluster.instances ?? []).map((instance) => provider.machine(instance.id).state);

async function messages(name: string): Promise<string[]> {
  return (await harness.api.events(name)).map((event) => event.message);
}

describe('the pause workflow', () => {
  it('stops every machine and records PAUSED, the readiness cleared for the resume', async () => {
    const ready = await readyCluster('pause-ok');

    expect((await harness.api.pauseCluster('pause-ok')).state).toBe('PAUSING');
    const cluster = await settle('pause-ok');

    expect(cluster).toMatchObject({ state: 'PAUSED', workersJoined: 0 });
    expect(cluster.dashboardAnsweredAt).toBeUndefined();
    expect(cluster.instances?.map((instance) => instance.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(statesOf(ready)).toEqual(['stopped', 'stopped', 'stopped']);
    expect((await messages('pause-ok')).slice(-2)).toEqual([
      'stopping 3 instances',
      expect.stringMatching(
        /^paused in [\d.]+ s: 3 instances stopped; their volumes still cost \(3 × the image's root size\); `bilbo resume pause-ok` starts them again$/,
      ),
    ]);
  });

  it('starts again what it stopped when one machine does not stop by the deadline, and is READY again', async () => {
    const ready = await readyCluster('pause-stuck');
    const stuck = ready.instances!.find((instance) => instance.role === 'worker')!;
    provider.refuseToStop(stuck.id);
    const started = clock.now().getTime();

    await harness.api.pauseCluster('pause-stuck');
    const cluster = await settle('pause-stuck');

    expect(cluster.state).toBe('READY');
    expect(cluster.failure).toMatchObject({
      step: 'check-stopped',
      error: 'DeadlineExceededError',
      message: `1 of 3 instances did not stop within ${STOP_TIMEOUT_SECONDS} s: ${stuck.id} running`,
    });
    expect(statesOf(ready)).toEqual(['running', 'running', 'running']);
    expect(clock.now().getTime() - started).toBeGreaterThanOrEqual(STOP_TIMEOUT_SECONDS * 1000);
    const said = await messages('pause-stuck');
    expect(said).toContainEqual(
      `pause failed at check-stopped: 1 of 3 instances did not stop within ${STOP_TIMEOUT_SECONDS} s: ${stuck.id} running; starting the 2 stopped instances again`,
    );
    expect(said.at(-1)).toMatch(/^resumed in [\d.]+ s: dashboard http:/);
  });

  it('is READY again, nothing stopped, when the provider refuses the stop', async () => {
    const ready = await readyCluster('pause-refused');
    provider.failOn(
      'stop',
      awsError(
        'UnsupportedOperation',
        'The instance does not have an EBS root device type and cannot be stopped.',
      ),
    );

    await harness.api.pauseCluster('pause-refused');
    const cluster = await settle('pause-refused');

    expect(cluster.state).toBe('READY');
    expect(cluster.failure).toMatchObject({ step: 'stop-machines' });
    expect(statesOf(ready)).toEqual(['running', 'running', 'running']);
  });

  it('is FAILED with the reason when a machine is gone', async () => {
    const ready = await readyCluster('pause-lost');
    const lost = ready.instances!.find((instance) => instance.role === 'worker')!;
    provider.kill(lost.id);

    await harness.api.pauseCluster('pause-lost');
    const cluster = await settle('pause-lost');

    expect(cluster.state).toBe('FAILED');
    expect(cluster.failure).toMatchObject({
      step: 'check-stopped',
      error: 'InstanceLostError',
      message: expect.stringContaining(`worker ${lost.id} is terminated`),
    });
  });
});

describe('the resume workflow', () => {
  async function pausedCluster(name: string): Promise<Cluster> {
    await readyCluster(name);
    await harness.api.pauseCluster(name);
    const cluster = await settle(name);
    expect(cluster.state).toBe('PAUSED');
    return cluster;
  }

  it('starts every machine, waits until they run and the cluster is ready, and records READY', async () => {
    const paused = await pausedCluster('resume-ok');

    expect((await harness.api.resumeCluster('resume-ok')).state).toBe('RESUMING');
    const cluster = await settle('resume-ok');

    expect(cluster).toMatchObject({ state: 'READY', workersJoined: 2 });
    expect(cluster.failure).toBeUndefined();
    expect(cluster.instances?.map((instance) => instance.state)).toEqual(['running', 'running', 'running']);
    expect(statesOf(paused)).toEqual(['running', 'running', 'running']);
    const said = await messages('resume-ok');
    expect(said).toContain('starting 3 instances');
    expect(said).toContain('3 instances running; waiting for the dashboard');
    expect(said.at(-1)).toMatch(/^resumed in [\d.]+ s: dashboard /);
  });

  it('stops the machines again and records PAUSED with the reason when the cluster is not ready in time', async () => {
    const paused = await pausedCluster('resume-silent');
    servicesUp = false;

    await harness.api.resumeCluster('resume-silent');
    const cluster = await settle('resume-silent');

    expect(cluster.state).toBe('PAUSED');
    expect(cluster.failure).toMatchObject({
      step: 'probe-ready',
      error: 'ReadyTimeoutError',
      message: expect.stringMatching(/^the Dask dashboard did not answer within ready_timeout \(600 s\)/),
    });
    expect(statesOf(paused)).toEqual(['stopped', 'stopped', 'stopped']);
    expect((await messages('resume-silent')).at(-1)).toMatch(
      /^resume failed at probe-ready: .*; the instances were stopped again: PAUSED \(`bilbo resume resume-silent` tries again\)$/,
    );

    // A second resume clears the failure and goes through.
    servicesUp = true;
    await harness.api.resumeCluster('resume-silent');
    const again = await settle('resume-silent');
    expect(again.state).toBe('READY');
    expect(again.failure).toBeUndefined();
  });

  it('is FAILED with the reason when a machine was lost while paused, the others stopped', async () => {
    const paused = await pausedCluster('resume-lost');
    const lost = paused.instances!.find((instance) => instance.role === 'worker')!;
    provider.kill(lost.id);

    await harness.api.resumeCluster('resume-lost');
    const cluster = await settle('resume-lost');

    expect(cluster.state).toBe('FAILED');
    expect(cluster.failure).toMatchObject({
      step: 'check-running',
      message: expect.stringContaining(`worker ${lost.id} is terminated`),
    });
    expect(statesOf(paused).filter((state) => state !== 'terminated')).toEqual(['stopped', 'stopped']);
  });
});
