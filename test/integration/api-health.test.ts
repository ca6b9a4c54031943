/**
 * Health after READY through the API handler, over a real store on
 * DynamoDB Local: reads refresh a READY cluster's health from its machines
 * (the API has no probe, as on AWS), with a conditional write the real
 * table checks, and the answer keeps to the cluster schema.
 */
import { describe, expect, it } from 'vitest';
import { HEALTH_CACHE_MS } from '../../lambdas/domain/health.ts';
import { checkMachines } from '../../lambdas/domain/workflow/check-machines.ts';
import { launchRole } from '../../lambdas/domain/workflow/launch-role.ts';
import { recordReady } from '../../lambdas/domain/workflow/record-ready.ts';
import type { Cluster, ClusterEvent } from '../../schemas/types.generated.ts';
import { assertValid, schemaIds } from '../../schemas/validate.ts';
import { useApiHarness } from '../support/api-harness.ts';

const api = useApiHarness();

/** A cluster created through the API, launched on the fake provider and recorded READY, as the workflow does. */
async function readyCluster(name: string): Promise<Cluster> {
  const created = (await api.create(name)).body;
  const deps = {
    store: api.testStore.store,
    provider: api.provider,
    secrets: api.secrets,
    remote: api.remote,
    clock: api.testStore.clock,
  };
  const { primaryAddress } = await launchRole({ clusterId: created.id, role: 'scheduler' }, deps);
  await launchRole({ clusterId: created.id, role: 'worker', primaryAddress: primaryAddress! }, deps);
  await checkMachines({ clusterId: created.id, want: 'running' }, deps);
  await recordReady({ clusterId: created.id }, deps);
  return (await api.testStore.store.get(created.id))!;
}

const workers = (cluster: Cluster) => (cluster.instances ?? []).filter((i) => i.role === 'worker');

describe('the API handler, reading a READY cluster', () => {
  it('answers GET /clusters/{name} with its health, degraded with the reason once a worker is lost', async () => {
    const ready = await readyCluster('analytics');
    const healthy = await api.call<Cluster>('GET', '/clusters/analytics');
    expect(healthy.body.health).toMatchObject({ status: 'ok', instancesExpected: 3, instancesRunning: 3 });

    const lost = workers(ready)[1]!.id;
    api.provider.kill(lost, 'Server.SpotInstanceTermination: Spot instance termination');
    api.testStore.clock.advance(HEALTH_CACHE_MS);
    const answer = await api.call<Cluster>('GET', '/clusters/analytics');

    expect(answer.status).toBe(200);
    expect(() => assertValid(schemaIds.cluster, answer.body, 'cluster')).not.toThrow();
    expect(answer.body.state).toBe('READY');
    expect(answer.body.health).toMatchObject({
      status: 'degraded',
      reason: `worker 1 (${lost}) is terminated: Server.SpotInstanceTermination: Spot instance termination`,
      instancesRunning: 2,
    });
    expect(answer.body.health).not.toHaveProperty('servicesCheckedAt');
    expect(await api.testStore.store.get(ready.id)).toEqual(answer.body);
    const events = await api.call<{ events: ClusterEvent[] }>('GET', '/clusters/analytics/events');
    expect(
      events.body.events.filter((event) => event.step === 'health').map((event) => event.message),
    ).toEqual([`degraded: ${answer.body.health?.reason}`]);
  });

  it('answers within the cache from the record, describing nothing', async () => {
    await readyCluster('analytics');
    await api.call('GET', '/clusters/analytics');
    const describes = api.provider.callsOf('describe');

    await api.call('GET', '/clusters/analytics');
    await api.call('GET', '/clusters');

    expect(api.provider.callsOf('describe')).toBe(describes);
  });

  it('lists the clusters with their health, describing the machines of all of them in one call', async () => {
    const first = await readyCluster('first');
    await readyCluster('second');
    await api.create('creating');
    api.provider.kill(workers(first)[0]!.id);
    const describes = api.provider.callsOf('describe');

    const listed = await api.call<{ clusters: Cluster[] }>('GET', '/clusters');

    expect(api.provider.callsOf('describe')).toBe(describes + 1);
    expect(
      Object.fromEntries(listed.body.clusters.map((cluster) => [cluster.name, cluster.health?.status])),
    ).toEqual({ first: 'degraded', second: 'ok', creating: undefined });
  });
});
