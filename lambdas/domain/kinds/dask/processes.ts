/**
 * How each Dask role is started locally, as a generic ProcessSpec run by
 * Python (`python -m dask …`): `{host}` and `{workdir}` are filled in by
 * the machine provider. The scheduler binds port 0 for itself and its
 * dashboard (`{port:…}`, named as in DASK_PORTS) and tells which it got in
 * its scheduler file, so no other program can take a port between choosing
 * and binding it; restarted, it binds those again, so the workers' scheduler
 * address and the cluster's URLs stay right. The flags exist
 * both in Debian's distributed 2022.12.1 and in current Dask.
 */
import type { RoleName } from '../../../../schemas/types.generated.ts';
import { ProvisioningError } from '../../errors.ts';
import type { PortsReport, ProcessSpec } from '../../ports.ts';
import type { LocalRuntime } from '../kind.ts';
import type { DaskBootstrap } from './bootstrap.ts';
import type { DaskPortName } from './ports.ts';

/** The interpreter the process specs name, and what it needs. */
export const DASK_LOCAL_RUNTIME: LocalRuntime = {
  program: 'python',
  module: 'distributed',
  install: 'apt-get install python3-distributed',
};

export function daskProcessSpec(
  role: RoleName,
  options: Pick<DaskBootstrap, 'dask' | 'schedulerAddress'> = {},
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
      throw new ProvisioningError(
        'the local provider does not run notebooks yet; remove the notebook section or use the EC2 provider',
      );
  }
}

function portArg(name: DaskPortName): string {
  return `{port:${name}}`;
}

/**
 * The scheduler file Dask writes once the scheduler and its dashboard
 * listen: `{"address": "tcp://127.0.0.1:40123", "services": {"dashboard": 40124}, ...}`.
 */
export const SCHEDULER_FILE: PortsReport = {
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
