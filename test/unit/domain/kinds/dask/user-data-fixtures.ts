/** Inputs for the user-data tests: plain ones, and hostile ones aimed at a sandbox's `pwned` file. */
import type { UserDataInput } from '../../../../../lambdas/domain/kinds/dask/user-data.ts';
import type { RoleBootstrap } from '../../../../../lambdas/domain/ports.ts';
import type { RoleName } from '../../../../../schemas/types.generated.ts';
import type { Sandbox } from './sandbox.ts';

export const CLUSTER_ID = 'c-0123456789abcdef';
export const TOKEN = `/bilbo/clusters/${CLUSTER_ID}/jupyter-token`;
export const SCHEDULER = 'tcp://10.0.1.23:8786';
export const DASK = { nworkers: 3, nthreads: 2, memoryLimitBytes: 4_294_967_296 };

export function input(role: RoleName, bootstrap: Partial<RoleBootstrap> = {}): UserDataInput {
  const base: RoleBootstrap = {
    kind: 'dask',
    ...(role === 'scheduler' ? {} : { schedulerAddress: SCHEDULER }),
    ...(role === 'worker' ? { dask: DASK } : {}),
    ...(role === 'notebook' ? { notebook: {}, secrets: { jupyterToken: TOKEN } } : {}),
  };
  return {
    clusterId: CLUSTER_ID,
    clusterName: 'analytics',
    role,
    region: 'eu-west-1',
    bootstrap: { ...base, ...bootstrap },
  };
}

export const withWorkdir: Partial<RoleBootstrap> = {
  notebook: { workdir: 'data/work' },
  secrets: { jupyterToken: TOKEN },
};

/** Every kind of text that means something to bash, systemd or printf, aimed at the sandbox's `pwned` file. */
export function hostile(sandbox: Sandbox, label: string): string {
  const touch = `touch ${sandbox.pwned}`;
  return `${label} $(${touch}) \`${touch}\` '; ${touch} # " \\ \\' %h %n %% $HOME \${HOME} * -- -n\nline two\t🎉 é`;
}

export function hostileInput(sandbox: Sandbox, role: RoleName): UserDataInput {
  const base = input(role, role === 'notebook' ? withWorkdir : {});
  return {
    ...base,
    clusterName: hostile(sandbox, 'name'),
    region: 'eu-west-1',
    bootstrap: {
      ...base.bootstrap,
      ...(role === 'scheduler' ? {} : { schedulerAddress: hostile(sandbox, 'tcp://scheduler') }),
      ...(role === 'notebook'
        ? {
            notebook: {
              // A workdir is a printable path under the home (the schema's home-path): no newline or tab.
              workdir: hostile(sandbox, 'work').replace(/[\n\t]/g, ' '),
            },
          }
        : {}),
    },
  };
}
