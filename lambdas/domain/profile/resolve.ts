/**
 * Turns a profile into the cluster's roles: the only place, with
 * dask/roles.ts, that knows a cluster's kind.
 */
import type {
  InstanceSpec,
  Profile,
  ResolvedInstance,
  RoleName,
  RolePlan,
} from '../../../schemas/types.generated.ts';
import { ValidationError } from '../errors.ts';

/** A role before the instance type is looked up and the workers are sized. */
export interface RoleSpec {
  role: RoleName;
  count: number;
  instance: ResolvedInstance;
  /** The profile's wishes for the Dask worker processes (worker role only). */
  worker?: { nproc?: number; nthread?: number };
  notebook?: NonNullable<RolePlan['notebook']>;
}

const SCALAR_FIELDS = [
  'ami',
  'ec2type',
  'keyname',
  'security_group',
  'vol_size',
  'ssh_user',
  'ssh_private_key',
] as const satisfies readonly (keyof InstanceSpec & keyof ResolvedInstance)[];

/** The role's instance overlaid on the common one, field by field; tags merged by key. */
export function resolveRoleInstance(
  common: InstanceSpec | undefined,
  role: InstanceSpec | undefined,
): ResolvedInstance {
  const resolved: ResolvedInstance = {
    tags: mergeTags(common?.tags ?? [], role?.tags ?? []),
    // A role's init_cmd replaces the common one: commands are a script, and merging scripts line by line is unsafe.
    init_cmd: [...(role?.init_cmd ?? common?.init_cmd ?? [])],
  };
  const scalars: Partial<ResolvedInstance> = {};
  for (const field of SCALAR_FIELDS) {
    const value = role?.[field] ?? common?.[field];
    if (value !== undefined) Object.assign(scalars, { [field]: value });
  }
  return { ...scalars, ...resolved };
}

/**
 * Common tags first in their order; a later tag with a key already seen
 * replaces that tag's value in place; new keys are appended. Keys and values
 * are kept exactly as written.
 */
export function mergeTags(
  common: readonly (readonly [string, string])[],
  role: readonly (readonly [string, string])[],
): [string, string][] {
  const merged = new Map<string, string>();
  for (const [key, value] of [...common, ...role]) merged.set(key, value);
  return [...merged].map(([key, value]): [string, string] => [key, value]);
}

/** The roles of the profile's cluster, in launch order: scheduler, worker, notebook. */
export function resolveRoles(profile: Profile): RoleSpec[] {
  if (profile.ray !== undefined) {
    throw new ValidationError('ray clusters are not supported yet: remove the "ray" section and use "dask"', {
      field: 'ray',
    });
  }
  const common = profile.instance;
  const worker = profile.dask?.worker;
  const roles: RoleSpec[] = [
    {
      role: 'scheduler',
      count: 1,
      instance: resolveRoleInstance(common, profile.dask?.scheduler?.instance),
    },
    {
      role: 'worker',
      count: worker?.count ?? 1,
      instance: resolveRoleInstance(common, worker?.instance),
      worker: {
        ...(worker?.nproc !== undefined ? { nproc: worker.nproc } : {}),
        ...(worker?.nthread !== undefined ? { nthread: worker.nthread } : {}),
      },
    },
  ];
  const notebook = profile.notebook;
  if (notebook !== undefined) {
    const repository = notebook.git?.repository;
    roles.push({
      role: 'notebook',
      count: 1,
      instance: resolveRoleInstance(common, notebook.instance),
      notebook: {
        ...(notebook.workdir !== undefined ? { workdir: notebook.workdir } : {}),
        ...(repository !== undefined
          ? { gitRepositories: typeof repository === 'string' ? [repository] : [...repository] }
          : {}),
        ...(notebook.git
          ? {
              gitUser: notebook.git.user,
              gitEmail: notebook.git.email,
              hasGitPassword: notebook.git.password !== '',
            }
          : {}),
      },
    });
  }
  return roles;
}
