/**
 * Which of a cluster's instances a command target names: a role (all its
 * instances), one instance of a role by its index (`worker:N`), `all`, an
 * instance id, or one of an instance's addresses (the original bilbo took
 * the public IP).
 */
import type { Cluster, ClusterInstance, RoleName } from '../../../schemas/types.generated.ts';
import { UnknownTargetError } from '../errors.ts';

const ROLE_INDEX = /^([a-z]+):(\d{1,6})$/;

type Targets = Pick<Cluster, 'instances'> & { plan: { roles: readonly { role: RoleName }[] } };

export function resolveTarget(cluster: Targets, target: string): ClusterInstance[] {
  const instances = inTargetOrder(cluster);
  const matched = matching(instances, target);
  if (matched.length === 0) throw new UnknownTargetError(target, validTargets(instances));
  return matched;
}

function matching(instances: readonly ClusterInstance[], target: string): ClusterInstance[] {
  if (target === 'all') return [...instances];
  const byRole = instances.filter((instance) => instance.role === target);
  if (byRole.length > 0) return byRole;
  const roleIndex = ROLE_INDEX.exec(target);
  if (roleIndex) {
    return instances.filter(
      (instance) => instance.role === roleIndex[1] && (instance.index ?? 0) === Number(roleIndex[2]),
    );
  }
  return instances.filter(
    (instance) => instance.id === target || instance.privateIp === target || instance.publicIp === target,
  );
}

/** What `target` may be on this cluster, for the error that lists them. */
export function validTargets(instances: readonly ClusterInstance[]): string[] {
  const roles = [...new Set(instances.map((instance) => instance.role))];
  const workers = instances.filter((instance) => instance.role === 'worker').map((w) => w.index ?? 0);
  return [
    'all',
    ...roles,
    ...(workers.length > 0 ? [`worker:N (N from ${Math.min(...workers)} to ${Math.max(...workers)})`] : []),
    ...instances.map((instance) => instance.id),
  ];
}

/** The plan's role order (its kind's: the primary first), then by index: the order output and exit codes are reported in. */
export function inTargetOrder(cluster: Targets): ClusterInstance[] {
  const order = cluster.plan.roles.map((role) => role.role);
  const rank = (role: RoleName) => (order.includes(role) ? order.indexOf(role) : order.length);
  return [...(cluster.instances ?? [])].sort(
    (a, b) => rank(a.role) - rank(b.role) || (a.index ?? 0) - (b.index ?? 0),
  );
}
