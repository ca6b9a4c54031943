/** Launch requests for real Dask processes, as the create workflow would build them. */
import { randomUUID } from 'node:crypto';
import type { LaunchRequest, ProcessSpec } from '../../lambdas/domain/ports.ts';

export const DASK_PYTHON = '/usr/bin/python3';

export const schedulerProcess: ProcessSpec = {
  program: 'dask',
  args: [
    'scheduler',
    '--host',
    '{host}',
    '--port',
    '{port:scheduler}',
    '--dashboard-address',
    '{host}:{port:dashboard}',
  ],
  ports: ['scheduler', 'dashboard'],
};

export function workerProcess(schedulerAddress: string): ProcessSpec {
  return {
    program: 'dask',
    args: [
      'worker',
      schedulerAddress,
      '--host',
      '{host}',
      '--nworkers',
      '1',
      '--nthreads',
      '1',
      '--memory-limit',
      '0',
      '--no-dashboard',
    ],
    ports: [],
  };
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
