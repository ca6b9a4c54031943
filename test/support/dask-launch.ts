/** Launch requests for real Dask processes, as the create workflow would build them. */
import { randomUUID } from 'node:crypto';
import { daskProcessSpec } from '../../lambdas/domain/dask/roles.ts';
import type { LaunchRequest, ProcessSpec } from '../../lambdas/domain/ports.ts';

export const DASK_PYTHON = '/usr/bin/python3';

export const schedulerProcess: ProcessSpec = daskProcessSpec('scheduler');

export function workerProcess(schedulerAddress: string): ProcessSpec {
  return daskProcessSpec('worker', {
    schedulerAddress,
    dask: { nworkers: 1, nthreads: 1, memoryLimitBytes: 0 },
  });
}

export function launchRequest(
  overrides: Partial<LaunchRequest> & Pick<LaunchRequest, 'process'>,
): LaunchRequest {
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
    ...overrides,
  };
}
