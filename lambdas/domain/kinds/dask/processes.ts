/**
 * How each Dask role is started, as a generic ProcessSpec: `{host}` and
 * `{port:NAME}` are filled in by the machine provider. The flags exist both in
 * Debian's distributed 2022.12.1 and in current Dask.
 */
import type { DaskWorkerOptions, RoleName } from '../../../../schemas/types.generated.ts';
import { ProvisioningError } from '../../errors.ts';
import type { ProcessSpec } from '../../ports.ts';

export interface DaskRoleOptions {
  /** Worker processes, threads and memory per instance (worker role). */
  dask?: DaskWorkerOptions | undefined;
  /** tcp://host:port of the scheduler (worker role). */
  schedulerAddress?: string | undefined;
}

export function daskProcessSpec(role: RoleName, options: DaskRoleOptions = {}): ProcessSpec {
  switch (role) {
    case 'scheduler':
      return {
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
      };
    case 'worker': {
      const { dask, schedulerAddress } = options;
      if (!schedulerAddress) throw new Error('a Dask worker needs the scheduler address');
      if (!dask) throw new Error('a Dask worker needs its sizing (nworkers, nthreads, memory limit)');
      return {
        program: 'dask',
        ports: [],
        args: [
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
        ],
      };
    }
    case 'notebook':
      throw new ProvisioningError(
        'the local provider does not run notebooks yet; remove the notebook section or use the EC2 provider',
      );
  }
}

/** `tcp://host:port`, with IPv6 hosts in brackets. */
export function schedulerAddressOf(host: string, port: number): string {
  return `tcp://${hostPart(host)}:${port}`;
}

/** The dashboard's base URL; its /health and /json/ pages hang off it. */
export function dashboardUrlOf(host: string, port: number): string {
  return `http://${hostPart(host)}:${port}`;
}

function hostPart(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
