import { describe, expect, it } from 'vitest';
import {
  HEALTH_CACHE_MS,
  healthEvent,
  instancesAsDescribed,
  isHealthDue,
  judgeHealth,
} from '../../../lambdas/domain/health.ts';
import { unseenMachine } from '../../../lambdas/domain/machines.ts';
import type { Machine } from '../../../lambdas/domain/ports.ts';
import type { Cluster, ClusterHealth, ClusterInstance } from '../../../schemas/types.generated.ts';

const NOW = new Date('2026-01-01T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

const INSTANCES: ClusterInstance[] = [
  { id: 'i-0a', role: 'scheduler', index: 0, privateIp: '10.0.0.4', state: 'running' },
  { id: 'i-0b', role: 'worker', index: 0, privateIp: '10.0.0.5', state: 'running' },
  { id: 'i-0c', role: 'worker', index: 1, privateIp: '10.0.0.6', state: 'running' },
];

function aCluster(overrides: Partial<Cluster> = {}): Cluster {
  return {
    id: 'c-0000000000000001',
    name: 'analytics',
    owner: 'alice',
    state: 'READY',
    version: 7,
    createdAt: ago(600_000),
    updatedAt: ago(60_000),
    plan: { kind: 'dask', wantedWorkers: 2 } as Cluster['plan'],
    instances: INSTANCES,
    ...overrides,
  };
}

function running(instance: ClusterInstance): Machine {
  return {
    id: instance.id,
    clusterId: 'c-0000000000000001',
    role: instance.role,
    index: instance.index ?? 0,
    state: 'running',
    privateIp: instance.privateIp ?? '',
  };
}

const allRunning = () => INSTANCES.map(running);

describe('isHealthDue', () => {
  const due = (cluster: Cluster, withServices = false) =>
    isHealthDue(cluster, { now: NOW, cacheMs: HEALTH_CACHE_MS, withServices });

  it('is due for a READY cluster never looked at, or looked at longer ago than the cache', () => {
    expect(due(aCluster())).toBe(true);
    expect(due(aCluster({ health: healthAt(ago(HEALTH_CACHE_MS)) }))).toBe(true);
  });

  it('is not due within the cache', () => {
    expect(due(aCluster({ health: healthAt(ago(HEALTH_CACHE_MS - 1)) }))).toBe(false);
  });

  it('is never due for a cluster that is not READY', () => {
    for (const state of ['CREATING', 'RESTARTING', 'PAUSED', 'DESTROYING', 'DESTROYED', 'FAILED'] as const) {
      expect(due(aCluster({ state }))).toBe(false);
    }
  });

  it('with a look at the services, goes by when the services were last looked at', () => {
    const machinesOnly = aCluster({ health: healthAt(ago(1_000)) });
    expect(due(machinesOnly, true)).toBe(true);
    expect(due(aCluster({ health: { ...healthAt(ago(1_000)), servicesCheckedAt: ago(1_000) } }), true)).toBe(
      false,
    );
  });
});

describe('judgeHealth', () => {
  it('is ok when every recorded instance runs and the services lack nothing', () => {
    const health = judgeHealth(aCluster(), allRunning(), { at: NOW, workersJoined: 2 }, NOW);

    expect(health).toEqual({
      status: 'ok',
      checkedAt: NOW.toISOString(),
      instancesExpected: 3,
      instancesRunning: 3,
      servicesCheckedAt: NOW.toISOString(),
    });
  });

  it('is degraded by an instance terminated outside bilbo, naming its role, index, id and what its provider says', () => {
    const machines = allRunning();
    machines[2] = { ...machines[2]!, state: 'terminated', stateReason: 'killed by SIGKILL' };

    const health = judgeHealth(aCluster(), machines, undefined, NOW);

    expect(health).toMatchObject({
      status: 'degraded',
      reason: 'worker 1 (i-0c) is terminated: killed by SIGKILL',
      instancesExpected: 3,
      instancesRunning: 2,
    });
  });

  it('counts a stopped, stopping or pending instance as not running', () => {
    const machines = allRunning();
    machines[0] = {
      ...machines[0]!,
      state: 'stopped',
      stateReason: 'User initiated (2026-01-01 11:58:00 GMT)',
    };
    machines[1] = { ...machines[1]!, state: 'pending' };

    const health = judgeHealth(aCluster(), machines, undefined, NOW);

    expect(health.instancesRunning).toBe(1);
    expect(health.reason).toBe(
      'scheduler 0 (i-0a) is stopped: User initiated (2026-01-01 11:58:00 GMT); worker 0 (i-0b) is pending',
    );
  });

  it('counts an instance the provider no longer knows as lost', () => {
    const machines = [...allRunning().slice(0, 2), unseenMachine('i-0c', 'unknown to EC2')];

    expect(judgeHealth(aCluster(), machines, undefined, NOW).reason).toBe(
      'worker 1 (i-0c) is terminated: unknown to EC2',
    );
  });

  it('is degraded by what the services look found missing, after the lost instances', () => {
    const machines = allRunning();
    machines[2] = { ...machines[2]!, state: 'terminated', stateReason: 'exited with code 1' };

    const health = judgeHealth(
      aCluster(),
      machines,
      { at: NOW, workersJoined: 1, missing: 'only 1/2 Dask workers joined' },
      NOW,
    );

    expect(health).toMatchObject({
      status: 'degraded',
      reason: 'worker 1 (i-0c) is terminated: exited with code 1; only 1/2 Dask workers joined',
      servicesMissing: 'only 1/2 Dask workers joined',
    });
  });

  it('without a look at the services, keeps what the last one found, and when', () => {
    const earlier = { ...healthAt(ago(120_000)), servicesCheckedAt: ago(120_000) };
    const lacking = aCluster({ health: { ...earlier, servicesMissing: 'only 1/2 Dask workers joined' } });

    const health = judgeHealth(lacking, allRunning(), undefined, NOW);

    expect(health).toMatchObject({
      status: 'degraded',
      reason: 'only 1/2 Dask workers joined',
      checkedAt: NOW.toISOString(),
      servicesCheckedAt: ago(120_000),
    });
    expect(judgeHealth(aCluster({ health: earlier }), allRunning(), undefined, NOW).status).toBe('ok');
  });

  it('lets a new look at the services clear what the last one found', () => {
    const lacking = aCluster({
      health: { ...healthAt(ago(60_000)), servicesCheckedAt: ago(60_000), servicesMissing: 'only 1/2' },
    });

    const health = judgeHealth(lacking, allRunning(), { at: NOW, workersJoined: 2 }, NOW);

    expect(health.status).toBe('ok');
    expect(health.servicesMissing).toBeUndefined();
  });
});

describe('healthEvent', () => {
  const ok = healthAt(NOW.toISOString());
  const degraded = (reason: string): ClusterHealth => ({
    ...ok,
    status: 'degraded',
    reason,
    instancesRunning: 2,
  });

  it('tells a cluster turning degraded, and why', () => {
    expect(healthEvent(undefined, degraded('worker 1 (i-0c) is terminated'))).toBe(
      'degraded: worker 1 (i-0c) is terminated',
    );
    expect(healthEvent(ok, degraded('worker 1 (i-0c) is terminated'))).toBe(
      'degraded: worker 1 (i-0c) is terminated',
    );
  });

  it('tells a degraded cluster whose reason changed', () => {
    expect(healthEvent(degraded('worker 1 lost'), degraded('worker 0 lost; worker 1 lost'))).toBe(
      'degraded: worker 0 lost; worker 1 lost',
    );
  });

  it('tells a cluster healthy again', () => {
    expect(healthEvent(degraded('worker 1 lost'), ok)).toBe('healthy again: 3/3 instances running');
  });

  it('tells nothing when nothing changed, however often looked at', () => {
    expect(healthEvent(undefined, ok)).toBeUndefined();
    expect(healthEvent(ok, ok)).toBeUndefined();
    expect(healthEvent(degraded('worker 1 lost'), degraded('worker 1 lost'))).toBeUndefined();
  });
});

describe('instancesAsDescribed', () => {
  it('gives each instance the state described now, and nothing when none changed', () => {
    const machines = allRunning();
    expect(instancesAsDescribed(INSTANCES, machines)).toBeUndefined();

    machines[1] = { ...machines[1]!, state: 'terminated' };
    expect(instancesAsDescribed(INSTANCES, machines)?.map((instance) => instance.state)).toEqual([
      'running',
      'terminated',
      'running',
    ]);
  });
});

function healthAt(checkedAt: string): ClusterHealth {
  return { status: 'ok', checkedAt, instancesExpected: 3, instancesRunning: 3 };
}
