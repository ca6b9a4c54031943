/** Launch requests for real Dask processes, as the create workflow would build them. */
import { randomUUID } from 'node:crypto';
import type { LaunchRequest, RoleBootstrap } from '../../lambdas/domain/ports.ts';

export const DASK_PYTHON = '/usr/bin/python3';

/** The programs a local provider runs Dask with. */
export const DASK_PROGRAMS = { python: DASK_PYTHON };

export const schedulerBootstrap: RoleBootstrap = { kind: 'dask' };

export function workerBootstrap(schedulerAddress: string): RoleBootstrap {
  return {
    kind: 'dask',
    schedulerAddress,
    dask: { nworkers: 1, nthreads: 1, memoryLimitBytes: 0 },
  };
}

export function launchRequest(overrides: Partial<LaunchRequest> = {}): LaunchRequest {
  return {
    clusterId: `c-${randomUUID()}`,
    clusterName: 'test-cluster',
    owner: 'tester',
    role: 'scheduler',
    firstIndex: 0,
    count: 1,
    instance: { init_cmd: [], tags: [] },
    instanceType: { name: 'local', vcpus: 2, threadsPerCore: 1, memoryMiB: 4096, source: 'this machine' },
    idempotencyToken: randomUUID(),
    bootstrap: schedulerBootstrap,
    ...overrides,
  };
}
