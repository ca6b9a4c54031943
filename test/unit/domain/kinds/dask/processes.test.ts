import { describe, expect, it } from 'vitest';
import { ProvisioningError } from '../../../../../lambdas/domain/errors.ts';
import {
  dashboardUrlOf,
  daskProcessSpec,
  schedulerAddressOf,
} from '../../../../../lambdas/domain/kinds/dask/processes.ts';

const dask = { nworkers: 2, nthreads: 3, memoryLimitBytes: 1_000_000_000 };

describe('daskProcessSpec', () => {
  it('starts a scheduler on its allocated scheduler and dashboard ports', () => {
    expect(daskProcessSpec('scheduler', {})).toEqual({
      program: 'dask',
      ports: ['scheduler', 'dashboard'],
      args: [
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
      program: 'dask',
      ports: [],
      args: [
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

describe('addresses', () => {
  it('writes the scheduler address as tcp://host:port', () => {
    expect(schedulerAddressOf('10.0.1.5', 8786)).toBe('tcp://10.0.1.5:8786');
  });

  it('writes the dashboard URL as the base URL of the dashboard', () => {
    expect(dashboardUrlOf('127.0.0.1', 40123)).toBe('http://127.0.0.1:40123');
  });

  it('puts IPv6 hosts in brackets', () => {
    expect(schedulerAddressOf('::1', 8786)).toBe('tcp://[::1]:8786');
    expect(dashboardUrlOf('fd00::5', 8787)).toBe('http://[fd00::5]:8787');
  });
});
