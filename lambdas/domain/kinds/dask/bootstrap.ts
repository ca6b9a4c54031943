import type { DaskWorkerOptions, Profile, RolePlan } from '../../../../schemas/types.generated.ts';
import type { SecretNames } from '../../ports.ts';

/**
 * What a Dask role's machine must start, whatever the provider: the local
 * one turns it into a process (processes.ts), the EC2 one into user-data
 * (user-data.ts). Only names of secrets travel, never their values.
 */
export interface DaskBootstrap {
  kind: 'dask';
  /** tcp://host:port of the scheduler, for every role but the scheduler. */
  schedulerAddress?: string;
  /**
   * The profile's ssh_user: the user commands run as. The boot adds it to the
   * service user's group, so it can work in the notebook's workdir.
   */
  loginUser?: string;
  /** Worker processes, threads and memory per instance (worker role). */
  dask?: DaskWorkerOptions;
  /** The notebook's working folder; its git clones are setup commands (git.ts), not boot. */
  notebook?: { workdir?: string };
  /** Secret parameter names the machine reads at boot with its instance role. */
  secrets?: { jupyterToken?: string };
}

/** The secrets of a Dask cluster's notebook: its token, read at boot, and the git password its clones read. */
export const DASK_SECRETS = { jupyterToken: 'jupyter-token', gitPassword: 'git-password' } as const;

export function daskSecrets(profile: Profile, newSecret: () => string): Record<string, string> {
  if (!profile.notebook) return {};
  const password = profile.notebook.git?.password;
  return {
    [DASK_SECRETS.jupyterToken]: newSecret(),
    ...(password ? { [DASK_SECRETS.gitPassword]: password } : {}),
  };
}

export function daskBootstrap(
  clusterId: string,
  role: RolePlan,
  options: { primaryAddress?: string; secrets: SecretNames },
): DaskBootstrap {
  const notebook = role.notebook;
  const { secrets } = options;
  return {
    kind: 'dask',
    ...(options.primaryAddress ? { schedulerAddress: options.primaryAddress } : {}),
    ...(role.instance.ssh_user ? { loginUser: role.instance.ssh_user } : {}),
    ...(role.dask ? { dask: role.dask } : {}),
    ...(notebook
      ? {
          notebook: notebook.workdir !== undefined ? { workdir: notebook.workdir } : {},
          secrets: { jupyterToken: secrets.nameOf(clusterId, DASK_SECRETS.jupyterToken) },
        }
      : {}),
  };
}
