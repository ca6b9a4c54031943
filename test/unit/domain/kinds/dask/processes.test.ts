import { describe, expect, it } from 'vitest';
import { ProvisioningError } from '../../../../../lambdas/domain/errors.ts';
import { daskProcessSpec } from '../../../../../lambdas/domain/kinds/dask/processes.ts';

const dask = { nworkers: 2, nthreads: 3, memoryLimitBytes: 1_000_000_000 };

describe('daskProcessSpec', () => {
  it('starts a scheduler on its allocated scheduler and dashboard ports', () => {
    expect(daskProcessSpec('scheduler', {})).toEqual({
      program: 'python',
      ports: ['scheduler', 'dashboard'],
      args: [
        '-m',
        'dask',
        'scheduler',
        '--host',
        '{host}',
        '--port',
        '{port:scheduler}',
        '--dashboard-address',
        '{host}:{port:dashboard}',
      ],
    });
  });

  it('starts workers sized by the plan, pointed at the scheduler, with no published port', () => {
    expect(daskProcessSpec('worker', { dask, schedulerAddress: 'tcp://127.0.0.1:8786' })).toEqual({
      program: 'python',
      ports: [],
      args: [
        '-m',
        'dask',
        'worker',
        'tcp://127.0.0.1:8786',
        '--host',
        '{host}',
        '--nworkers',
        '2',
        '--nthreads',
        '3',
        '--memory-limit',
        '1000000000',
        '--dashboard-address',
        '{host}:0',
        '--local-directory',
        '{workdir}',
      ],
    });
  });

  it('refuses a worker without a scheduler address', () => {
    expect(() => daskProcessSpec('worker', { dask })).toThrow('a Dask worker needs the scheduler address');
  });

  it('refuses a worker without its sizing', () => {
    expect(() => daskProcessSpec('worker', { schedulerAddress: 'tcp://h:1' })).toThrow('needs its sizing');
  });

  it('refuses the notebook, which local processes do not run yet', () => {
    expect(() => daskProcessSpec('notebook', {})).toThrow(ProvisioningError);
    expect(() => daskProcessSpec('notebook', {})).toThrow(
      /remove the notebook section or use the EC2 provider/,
    );
  });
});
