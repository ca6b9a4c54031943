import { describe, expect, it } from 'vitest';
import { HEALTH_CACHE_MS } from '../../../lambdas/domain/health.ts';
import type { ReadinessProbe } from '../../../lambdas/domain/ports.ts';
import {
  type HealthDeps,
  refreshHealth,
  refreshHealthOfAll,
} from '../../../lambdas/domain/use-cases/refresh-health.ts';
import { checkMachines } from '../../../lambdas/domain/workflow/check-machines.ts';
import { recordReady } from '../../../lambdas/domain/workflow/record-ready.ts';
import type { Cluster } from '../../../schemas/types.generated.ts';
import { fakeDaskProbe } from '../../support/fake-dask-probe.ts';
import { throttlingError } from '../../support/fake-provider.ts';
import { useWorkflowHarness } from '../../support/workflow-harness.ts';

const h = useWorkflowHarness();

/** The seeded cluster (a scheduler and two workers) launched, running, and READY with both workers joined. */
async function readyCluster(clusterId = h.cluster.id): Promise<Cluster> {
  if (clusterId === h.cluster.id) await h.launchAll();
  const deps = h.deps();
  await checkMachines({ clusterId, want: 'running' }, deps);
  await recordReady({ clusterId }, deps);
  await deps.store.update(clusterId, { changes: { workersJoined: 2 } });
  return (await deps.store.get(clusterId))!;
}

function deps(overrides: Partial<HealthDeps> = {}): HealthDeps {
  return { store: h.testStore.store, provider: h.provider, clock: h.testStore.clock, ...overrides };
}

const withWorkers = (workers: number) => ({
  probe: fakeDaskProbe(() => true, workers),
  network: 'private' as const,
  secrets: h.deps().secrets,
});

function workerIds(cluster: Cluster): string[] {
  return (cluster.instances ?? []).filter((i) => i.role === 'worker').map((i) => i.id);
}

describe('refreshHealth', () => {
  it('records a READY cluster whose machines all run as ok, with no event', async () => {
    const ready = await readyCluster();

    const seen = await refreshHealth(ready, deps());

    expect(seen.health).toEqual({
      status: 'ok',
      checkedAt: h.testStore.clock.now().toISOString(),
      instancesExpected: 3,
      instancesRunning: 3,
    });
    expect(await h.latest()).toEqual(seen);
    expect(await h.eventsOf('health')).toEqual([]);
  });

  it('marks a cluster that lost a worker outside bilbo degraded, with the reason, its instance terminated, and one event', async () => {
    const ready = await readyCluster();
    const lost = workerIds(ready)[1]!;
    h.provider.kill(lost, 'Server.SpotInstanceTermination: Spot instance termination');

    const seen = await refreshHealth(ready, deps());

    expect(seen.health).toMatchObject({
      status: 'degraded',
      reason: `worker 1 (${lost}) is terminated: Server.SpotInstanceTermination: Spot instance termination`,
      instancesExpected: 3,
      instancesRunning: 2,
    });
    expect(seen.state).toBe('READY');
    expect(seen.instances?.find((i) => i.id === lost)?.state).toBe('terminated');
    expect(await h.latest()).toEqual(seen);
    expect((await h.eventsOf('health')).map((e) => e.message)).toEqual([`degraded: ${seen.health?.reason}`]);

    h.testStore.clock.advance(HEALTH_CACHE_MS);
    await refreshHealth(seen, deps());
    expect(await h.eventsOf('health')).toHaveLength(1);
  });

  it('answers from the record within the cache, without describing', async () => {
    const seen = await refreshHealth(await readyCluster(), deps());
    const describes = h.provider.callsOf('describe');

    h.testStore.clock.advance(HEALTH_CACHE_MS - 1);
    expect(await refreshHealth(seen, deps())).toEqual(seen);
    expect(h.provider.callsOf('describe')).toBe(describes);

    h.testStore.clock.advance(1);
    await refreshHealth(seen, deps());
    expect(h.provider.callsOf('describe')).toBe(describes + 1);
  });

  it('with a probe, counts the workers joined and is degraded by too few', async () => {
    const ready = await readyCluster();

    const seen = await refreshHealth(ready, deps({ servicesProbe: withWorkers(1) }));

    expect(seen.workersJoined).toBe(1);
    expect(seen.health).toMatchObject({
      status: 'degraded',
      reason: 'only 1/2 Dask workers joined',
      instancesRunning: 3,
      servicesCheckedAt: h.testStore.clock.now().toISOString(),
      servicesMissing: 'only 1/2 Dask workers joined',
    });
    expect(await h.latest()).toEqual(seen);
  });

  it('without a probe, keeps what the last look at the services found (the reaper’s, on AWS)', async () => {
    const lookedAt = await refreshHealth(await readyCluster(), deps({ servicesProbe: withWorkers(1) }));
    h.testStore.clock.advance(HEALTH_CACHE_MS);

    const seen = await refreshHealth(lookedAt, deps());

    expect(seen.health).toMatchObject({
      status: 'degraded',
      reason: 'only 1/2 Dask workers joined',
      checkedAt: h.testStore.clock.now().toISOString(),
      servicesCheckedAt: lookedAt.health?.servicesCheckedAt,
    });
  });

  it('looks at the services again when they are due, even when the machines were just described', async () => {
    const described = await refreshHealth(await readyCluster(), deps());
    const probe = withWorkers(2);

    await refreshHealth(described, deps({ servicesProbe: probe }));

    expect(probe.probe.asked.length).toBeGreaterThan(0);
  });

  it('records a degraded cluster whose machines and workers are all back as healthy again', async () => {
    const ready = await readyCluster();
    const lost = workerIds(ready)[0]!;
    await h.provider.stop([lost]);
    const degraded = await refreshHealth(ready, deps({ servicesProbe: withWorkers(1) }));
    expect(degraded.health?.reason).toBe(`worker 0 (${lost}) is stopped; only 1/2 Dask workers joined`);

    await h.provider.start([lost]);
    await h.provider.describe([lost]);
    h.testStore.clock.advance(HEALTH_CACHE_MS);
    const back = await refreshHealth(degraded, deps({ servicesProbe: withWorkers(2) }));

    expect(back.health?.status).toBe('ok');
    expect(back.workersJoined).toBe(2);
    expect(back.instances?.find((i) => i.id === lost)?.state).toBe('running');
    expect((await h.eventsOf('health')).map((e) => e.message)).toEqual([
      `degraded: worker 0 (${lost}) is stopped; only 1/2 Dask workers joined`,
      'healthy again: 3/3 instances running',
    ]);
  });

  it('leaves a cluster that is not READY alone, describing nothing', async () => {
    await h.launchAll();
    const creating = await h.latest();

    expect(await refreshHealth(creating, deps())).toEqual(creating);
    expect(h.provider.callsOf('describe')).toBe(0);
  });

  it('leaves a cluster that moved on meanwhile alone, and answers it as it is now', async () => {
    const ready = await readyCluster();
    h.provider.kill(workerIds(ready)[0]!);
    // A workflow writes between the read and the health's write.
    await h.testStore.store.transition(ready.id, {
      name: ready.name,
      from: ['READY'],
      to: 'DESTROYING',
      event: { step: 'destroy-requested', message: 'destroy requested by alice' },
    });

    const seen = await refreshHealth(ready, deps());

    expect(seen.state).toBe('DESTROYING');
    expect(seen.health).toBeUndefined();
    expect(await h.eventsOf('health')).toEqual([]);
  });

  it('of two reads of the same version at once, writes one health and one event', async () => {
    const ready = await readyCluster();
    h.provider.kill(workerIds(ready)[0]!);

    const [first, second] = await Promise.all([refreshHealth(ready, deps()), refreshHealth(ready, deps())]);

    expect((await h.latest()).version).toBe(ready.version + 1);
    expect(first.health?.status).toBe('degraded');
    expect(second).toEqual(await h.latest());
    expect(await h.eventsOf('health')).toHaveLength(1);
  });

  it('answers the record as it is when the provider cannot describe', async () => {
    const ready = await readyCluster();
    h.provider.failOn('describe', throttlingError());

    expect(await refreshHealth(ready, deps())).toEqual(ready);
    expect((await h.latest()).version).toBe(ready.version);
  });
});

describe('refreshHealthOfAll', () => {
  async function threeReady(): Promise<Cluster[]> {
    const clusters = [await readyCluster()];
    for (const name of ['nightly', 'gpu']) {
      h.cluster = await h.seedCluster(name);
      await h.launchAll();
      clusters.push(await readyCluster(h.cluster.id));
    }
    return clusters;
  }

  it('describes the machines of every due cluster in one call, and answers them in the same order', async () => {
    const clusters = await threeReady();
    const before = h.provider.callsOf('describe');

    const seen = await refreshHealthOfAll(clusters, deps());

    expect(h.provider.callsOf('describe')).toBe(before + 1);
    expect(seen.map((cluster) => [cluster.name, cluster.health?.status])).toEqual([
      ['analytics', 'ok'],
      ['nightly', 'ok'],
      ['gpu', 'ok'],
    ]);
  });

  it('looks only at the clusters past the cache, and passes the others through', async () => {
    const clusters = await threeReady();
    const fresh = await refreshHealth(clusters[1]!, deps());
    const before = h.provider.calls.length;

    const seen = await refreshHealthOfAll([clusters[0]!, fresh, clusters[2]!], deps());

    expect(seen[1]).toBe(fresh);
    const described = h.provider.calls.slice(before).flatMap((call) => call.args as string[]);
    expect(described).toEqual([
      ...(clusters[0]!.instances ?? []).map((i) => i.id),
      ...(clusters[2]!.instances ?? []).map((i) => i.id),
    ]);
  });

  /** `count` READY clusters, and a probe that notes how many looks are under way at once. */
  async function readyClustersAndProbe(count: number) {
    const clusters = [];
    for (let n = 0; n < count; n++) {
      h.cluster = await h.seedCluster(`c${n}`);
      await h.launchAll();
      clusters.push(await readyCluster(h.cluster.id));
    }
    const seen = { looking: 0, most: 0 };
    const inner = fakeDaskProbe(() => true, 2);
    const probe: ReadinessProbe = {
      async look(urls) {
        seen.most = Math.max(seen.most, ++seen.looking);
        await new Promise((resolve) => setImmediate(resolve));
        seen.looking--;
        return inner.look(urls);
      },
    };
    const probing = deps({ servicesProbe: { probe, network: 'private', secrets: h.deps().secrets } });
    return { clusters, probing, seen };
  }

  it('looks at the services of a few clusters at a time', async () => {
    const { clusters, probing, seen } = await readyClustersAndProbe(10);

    const refreshed = await refreshHealthOfAll(clusters, probing);

    expect(refreshed.every((cluster) => cluster.health?.status === 'ok')).toBe(true);
    expect(seen.most).toBe(4);
  });

  it('looks at as many at once as the caller asks (the sweep, at its own concurrency)', async () => {
    const { clusters, probing, seen } = await readyClustersAndProbe(20);

    const refreshed = await refreshHealthOfAll(clusters, probing, { concurrency: 16 });

    expect(refreshed.every((cluster) => cluster.health?.status === 'ok')).toBe(true);
    expect(seen.most).toBe(16);
  });
});
