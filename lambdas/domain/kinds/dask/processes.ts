/**
 * How each Dask role is started locally, as a generic ProcessSpec run by
 * Python (`python -m dask …`, `python -m jupyter_server`): `{host}` and
 * `{workdir}` are filled in by the machine provider. The scheduler binds
 * port 0 for itself and its dashboard (`{port:…}`, named as in DASK_PORTS)
 * and tells which it got in its scheduler file, so no other program can
 * take a port between choosing and binding it; restarted, it binds those
 * again, so the workers' scheduler address and the cluster's URLs stay
 * right. The flags exist both in Debian's distributed 2022.12.1 and in
 * current Dask, and in Debian's jupyter_server 1.23 and current Jupyter.
 */
import type { RoleName } from '../../../../schemas/types.generated.ts';
import type { PortsFile, ProcessSpec } from '../../ports.ts';
import type { LocalRuntime } from '../kind.ts';
import type { DaskBootstrap } from './bootstrap.ts';
import type { DaskPortName } from './ports.ts';
import { notebookWorkdirInHome } from './user-data.ts';

/** The interpreter the process specs name, and what it needs. */
export const DASK_LOCAL_RUNTIME: LocalRuntime = {
  program: 'python',
  module: 'distributed',
  install: 'apt-get install python3-distributed',
  // nbclassic brings the server and the classic notebook's pages to open.
  roleModules: { notebook: { module: 'jupyter_server', install: 'apt-get install python3-nbclassic' } },
};

export function daskProcessSpec(
  role: RoleName,
  options: Pick<DaskBootstrap, 'dask' | 'schedulerAddress' | 'notebook' | 'secrets'> = {},
): ProcessSpec {
  switch (role) {
    case 'scheduler':
      return {
        program: 'python',
        args: [
          '-m',
          'dask',
          'scheduler',
          '--host',
          '{host}',
          '--port',
          portArg('scheduler'),
          '--dashboard-address',
          `{host}:${portArg('dashboard')}`,
          '--scheduler-file',
          `{workdir}/${SCHEDULER_FILE.file}`,
        ],
        // A paused cluster's processes are stopped together; resumed after more than the
        // worker TTL (5 minutes), the scheduler would drop every worker before its first
        // heartbeat. On one machine a worker that dies closes its connection anyway.
        env: { DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL: 'None' },
        reportsPorts: SCHEDULER_FILE,
      };
    case 'worker': {
      const { dask, schedulerAddress } = options;
      if (!schedulerAddress) throw new Error('a Dask worker needs the scheduler address');
      if (!dask) throw new Error('a Dask worker needs its sizing (nworkers, nthreads, memory limit)');
      return {
        program: 'python',
        args: [
          '-m',
          'dask',
          'worker',
          schedulerAddress,
          '--host',
          '{host}',
          '--nworkers',
          String(dask.nworkers),
          '--nthreads',
          String(dask.nthreads),
          '--memory-limit',
          String(dask.memoryLimitBytes),
          // Each worker's own diagnostics page on a free port; only the scheduler's dashboard is published.
          '--dashboard-address',
          '{host}:0',
          // Keeps dask-worker-space out of the shared temp folder.
          '--local-directory',
          '{workdir}',
        ],
      };
    }
    case 'notebook':
      return notebookProcessSpec(options);
  }
}

/**
 * A Jupyter server in the notebook's workdir (under the instance's folder,
 * as on EC2 under the service user's home), its token read from the secret
 * store into JUPYTER_TOKEN (never an argument), and DASK_SCHEDULER_ADDRESS
 * set when there is a scheduler, so `Client()` connects with no argument.
 * jupyter_server 1.23 writes port 0 into its server file, so the port it
 * bound is read from the system instead. Its configuration and runtime
 * files are the instance's own: a personal Jupyter config (a password, a
 * default URL) does not change what bilbo starts.
 */
function notebookProcessSpec(
  options: Pick<DaskBootstrap, 'notebook' | 'schedulerAddress' | 'secrets'>,
): ProcessSpec {
  const token = options.secrets?.jupyterToken;
  if (token === undefined) throw new Error('a notebook needs the name of its Jupyter token secret');
  const folder = notebookWorkdirInHome(options.notebook?.workdir);
  return {
    program: 'python',
    args: [
      '-m',
      'jupyter_server',
      '--ip',
      '{host}',
      '--port',
      portArg('notebook'),
      // Restarted on its port or not at all: a silent move would break the recorded URL.
      '--ServerApp.port_retries=0',
      '--no-browser',
      // Harmless for anyone else; needed where the plane runs as root (CI containers).
      '--allow-root',
    ],
    ...(folder ? { folder } : {}),
    env: {
      JUPYTER_CONFIG_DIR: '{workdir}/jupyter/config',
      JUPYTER_RUNTIME_DIR: '{workdir}/jupyter/runtime',
      ...(options.schedulerAddress ? { DASK_SCHEDULER_ADDRESS: options.schedulerAddress } : {}),
    },
    secretEnv: { JUPYTER_TOKEN: token },
    reportsPorts: { listening: 'notebook' },
  };
}

function portArg(name: DaskPortName): string {
  return `{port:${name}}`;
}

/**
 * The scheduler file Dask writes once the scheduler and its dashboard
 * listen: `{"address": "tcp://127.0.0.1:40123", "services": {"dashboard": 40124}, ...}`.
 */
export const SCHEDULER_FILE: PortsFile = {
  file: 'scheduler.json',
  parse(text) {
    let file: { address?: unknown; services?: { dashboard?: unknown } };
    try {
      file = JSON.parse(text);
    } catch {
      return undefined; // Still being written.
    }
    const scheduler =
      typeof file.address === 'string' ? Number(/:(\d+)$/.exec(file.address)?.[1]) : Number.NaN;
    const dashboard = file.services?.dashboard;
    if (!Number.isInteger(scheduler) || typeof dashboard !== 'number' || !Number.isInteger(dashboard)) {
      return undefined;
    }
    return { scheduler, dashboard };
  },
};
