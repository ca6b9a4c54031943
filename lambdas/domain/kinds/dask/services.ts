/**
 * The Dask services a role runs, and which of them a restart restarts: the
 * scheduler first, so that the workers started after it find it at once;
 * never the notebook, whose kernels hold the user's work.
 */
import type { Plan, RoleName } from '../../../../schemas/types.generated.ts';

const RESTARTED_ROLES: readonly RoleName[] = ['scheduler', 'worker'];

/** The systemd unit of a role's service on EC2 (user-data.ts writes it). */
export function daskUnitOf(role: RoleName): string {
  return `bilbo-${role}.service`;
}

export function daskRestartRoles(plan: Pick<Plan, 'roles'>): RoleName[] {
  return RESTARTED_ROLES.filter((role) => plan.roles.some((planned) => planned.role === role));
}
