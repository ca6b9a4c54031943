/**
 * The roles a profile asks a Dask cluster for, in launch order: a `dask`
 * section (even `{}`) asks for the scheduler and its workers, a `notebook`
 * section (even `{}`) for the notebook; a profile with neither asks for nothing.
 */
import type {
  InstanceSpec,
  Profile,
  ResolvedInstance,
  RoleName,
  RolePlan,
} from '../../../../schemas/types.generated.ts';
import { resolveRoleInstance } from '../../profile/resolve.ts';

/** A role before the instance type is looked up and the workers are sized. */
export interface RoleSpec {
  role: RoleName;
  count: number;
  instance: ResolvedInstance;
  /** The profile's wishes for the Dask worker processes (worker role only). */
  worker?: { nproc?: number; nthread?: number };
  notebook?: NonNullable<RolePlan['notebook']>;
}

/** Where each role's own instance lives in a profile. */
const ROLE_INSTANCE_PATH: Record<RoleName, string> = {
  scheduler: 'dask.scheduler.instance',
  worker: 'dask.worker.instance',
  notebook: 'notebook.instance',
};

export function daskRoleInstance(
  profile: Profile,
  role: RoleName,
): { path: string; instance: InstanceSpec | undefined } {
  const instance =
    role === 'scheduler'
      ? profile.dask?.scheduler?.instance
      : role === 'worker'
        ? profile.dask?.worker?.instance
        : profile.notebook?.instance;
  return { path: ROLE_INSTANCE_PATH[role], instance };
}

/** The scheduler, whose address the workers and the notebook are given; a notebook on its own else. */
export function daskPrimaryRole(plan: { roles: ReadonlyArray<{ role: RoleName }> }): RoleName {
  const roles = plan.roles.map((role) => role.role);
  const primary = roles.includes('scheduler') ? 'scheduler' : roles[0];
  if (primary === undefined) throw new Error('a plan with no roles has no primary role');
  return primary;
}

export function resolveRoles(profile: Profile): RoleSpec[] {
  const common = profile.instance;
  const worker = profile.dask?.worker;
  const roles: RoleSpec[] = [];
  if (profile.dask !== undefined)
    roles.push(
      {
        role: 'scheduler',
        count: 1,
        instance: resolveRoleInstance(common, daskRoleInstance(profile, 'scheduler').instance),
      },
      {
        role: 'worker',
        count: worker?.count ?? 1,
        instance: resolveRoleInstance(common, daskRoleInstance(profile, 'worker').instance),
        worker: {
          ...(worker?.nproc !== undefined ? { nproc: worker.nproc } : {}),
          ...(worker?.nthread !== undefined ? { nthread: worker.nthread } : {}),
        },
      },
    );
  const notebook = profile.notebook;
  if (notebook !== undefined) {
    const repository = notebook.git?.repository;
    roles.push({
      role: 'notebook',
      count: 1,
      instance: resolveRoleInstance(common, daskRoleInstance(profile, 'notebook').instance),
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
