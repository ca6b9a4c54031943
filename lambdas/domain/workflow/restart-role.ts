import type { Cluster, ClusterInstance, RoleName } from '../../../schemas/types.generated.ts';
import { deadlineOf, pollDelaySeconds } from '../deadlines.ts';
import { DeadlineExceededError, ServiceRestartError } from '../errors.ts';
import type { Clock, ClusterStore, ServiceRestarter } from '../ports.ts';
import { loadCluster } from './load-cluster.ts';

export interface RestartRoleInput {
  clusterId: string;
  role: RoleName;
  /** When the restart was asked for: with the cluster and the role, it keys this restart. */
  requestedAt: string;
}

export interface RestartRoleOutput {
  /** The restarter's ticket, for CheckRestart. */
  ticketId: string;
}

export interface RestartRoleDeps {
  store: ClusterStore;
  services: ServiceRestarter;
}

/**
 * Asks for the role's services to restart on every instance of the role.
 * The workers the cluster had are gone from its count until the probe
 * sees them join again.
 */
export async function restartRole(
  input: RestartRoleInput,
  deps: RestartRoleDeps,
): Promise<RestartRoleOutput> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  if (cluster.state !== 'RESTARTING') {
    throw new ServiceRestartError(
      `${cluster.name} is ${cluster.state}, no longer restarting: restarting nothing`,
    );
  }
  const instances = instancesOf(cluster, input.role);
  await deps.store.update(cluster.id, {
    changes: { workersJoined: 0 },
    event: {
      step: `restart-${input.role}`,
      message: `restarting the ${input.role} services on ${instances.map((instance) => instance.id).join(', ')}`,
    },
  });
  const ticket = await deps.services.restart({
    clusterId: cluster.id,
    clusterName: cluster.name,
    kind: cluster.plan.kind,
    role: input.role,
    instances,
    restartKey: `${cluster.id}/${input.requestedAt}/${input.role}`,
  });
  return { ticketId: ticket.id };
}

export interface CheckRestartInput extends RestartRoleInput {
  ticketId: string;
}

export interface CheckRestartOutput {
  done: boolean;
  /** How long the workflow waits before it looks again. */
  waitSeconds: number;
}

/**
 * One look at a role's restart, for the workflow's poll loop: done once
 * every instance restarted its services; an instance that could not fails
 * the restart with its reason, and so does the cluster's deadline.
 */
export async function checkRestart(
  input: CheckRestartInput,
  deps: RestartRoleDeps & { clock: Clock },
): Promise<CheckRestartOutput> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const instances = instancesOf(cluster, input.role);
  const progress = await deps.services.progress({ id: input.ticketId }, instances);
  if (progress.failure) {
    throw new ServiceRestartError(`the ${input.role} services did not restart on ${progress.failure}`);
  }
  const now = deps.clock.now().getTime();
  const deadline = deadlineOf(cluster);
  if (progress.done) {
    await deps.store.appendEvent(cluster.id, {
      step: `restart-${input.role}`,
      message: `restarted the ${input.role} services`,
    });
  } else if (now >= deadline) {
    throw new DeadlineExceededError(
      `the ${input.role} services did not restart within ready_timeout (${cluster.plan.readyTimeoutSeconds} s)`,
    );
  }
  const waitSeconds = pollDelaySeconds(now - Date.parse(input.requestedAt), deadline - now);
  return { done: progress.done, waitSeconds };
}

function instancesOf(cluster: Cluster, role: RoleName): ClusterInstance[] {
  const instances = (cluster.instances ?? []).filter((instance) => instance.role === role);
  if (instances.length === 0)
    throw new ServiceRestartError(`${cluster.name} has no ${role} instance to restart`);
  return instances;
}
