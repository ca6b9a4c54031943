import { describe, expect, it } from 'vitest';
import { daskProcessSpec, SCHEDULER_FILE } from '../../../../../lambdas/domain/kinds/dask/processes.ts';

const dask = { nworkers: 2, nthreads: 3, memoryLimitBytes: 1_000_000_000 };

describe('daskProcessSpec', () => {
  it('starts a scheduler that binds the ports it is given (0 at launch), reports them in its scheduler file, and keeps workers past a long pause', () => {
    expect(daskProcessSpec('scheduler', {})).toEqual({
      program: 'python',
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
        '--scheduler-file',
        '{workdir}/scheduler.json',
      ],
      // No worker TTL: a local pause stops the scheduler and its workers together.
      env: { DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL: 'None' },
      reportsPorts: SCHEDULER_FILE,
    });
  });

  it('reads the scheduler and dashboard ports from a whole scheduler file, and nothing from a torn one', () => {
    const whole = JSON.stringify({
      type: 'Scheduler',
      address: 'tcp://127.0.0.1:45979',
      services: { dashboard: 41793 },
      workers: {},
    });

    expect(SCHEDULER_FILE.parse(whole)).toEqual({ scheduler: 45979, dashboard: 41793 });
    expect(SCHEDULER_FILE.parse(whole.slice(0, 40))).toBeUndefined();
    expect(SCHEDULER_FILE.parse('{"address": "tcp://127.0.0.1:45979", "services": {}}')).toBeUndefined();
    expect(SCHEDULER_FILE.parse('{"address": "tcp://[::1]:1", "services": {"dashboard": 2}}')).toEqual({
      scheduler: 1,
      dashboard: 2,
    });
  });

  it('starts workers sized by the plan, pointed at the scheduler, with no published port', () => {
    expect(daskProcessSpec('worker', { dask, schedulerAddress: 'tcp://127.0.0.1:8786' })).toEqual({
      program: 'python',
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

  it('runs the notebook as a Jupyter server in its workdir, its token from the secret store and the scheduler in its environment', () => {
    const spec = daskProcessSpec('notebook', {
      schedulerAddress: 'tcp://127.0.0.1:40001',
      notebook: { workdir: '~/works/analysis' },
      secrets: { jupyterToken: '/bilbo/clusters/c-1/jupyter-token' },
    });

    expect(spec).toEqual({
      program: 'python',
      args: [
        '-m',
        'jupyter_server',
        '--ip',
        '{host}',
        '--port',
        '{port:notebook}',
        '--ServerApp.port_retries=0',
        '--no-browser',
        '--allow-root',
      ],
      folder: 'works/analysis',
      env: {
        JUPYTER_CONFIG_DIR: '{workdir}/jupyter/config',
        JUPYTER_RUNTIME_DIR: '{workdir}/jupyter/runtime',
        DASK_SCHEDULER_ADDRESS: 'tcp://127.0.0.1:40001',
      },
      secretEnv: { JUPYTER_TOKEN: '/bilbo/clusters/c-1/jupyter-token' },
      reportsPorts: { listening: 'notebook' },
    });
    // The token's value is never an argument: only the secret's name travels.
    expect(JSON.stringify(spec.args)).not.toContain('jupyter-token');
  });

  it('runs a notebook without Dask with no scheduler address, in ~/works by default', () => {
    const spec = daskProcessSpec('notebook', {
      secrets: { jupyterToken: '/bilbo/clusters/c-1/jupyter-token' },
    });

    expect(spec.folder).toBe('works');
    expect(spec.env).not.toHaveProperty('DASK_SCHEDULER_ADDRESS');
  });

  it('refuses a notebook whose token has no secret to read it from', () => {
    expect(() => daskProcessSpec('notebook', {})).toThrow('needs the name of its Jupyter token secret');
  });
});
