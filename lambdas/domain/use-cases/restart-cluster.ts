import type { Cluster } from '../../../schemas/types.generated.ts';
import { type AccessPolicy, type Actor, assertMayChange, requestedBy } from '../access.ts';
import { restartDeadline } from '../deadlines.ts';
import { NothingToRestartError } from '../errors.ts';
import { kindOf } from '../kinds/index.ts';
import { assertTransition } from '../lifecycle.ts';
import type { Clock, ClusterStore, WorkflowStarter } from '../ports.ts';
import { loadCluster } from '../workflow/load-cluster.ts';
import { WORKFLOWS } from '../workflows.ts';
import { findCluster } from './find-cluster.ts';
import { retryingConcurrentUpdates } from './retry-concurrent.ts';

export interface RestartClusterDeps {
  store: ClusterStore;
  workflows: WorkflowStarter;
  clock: Clock;
  access: AccessPolicy;
}

/**
 * Moves a READY cluster to RESTARTING and starts the restart workflow,
 * when `actor` may (the owner or an admin) and the cluster's kind has
 * services to restart. Asking again while it restarts answers the same
 * record, so a retried request is harmless.
 */
export function restartCluster(name: string, actor: Actor, deps: RestartClusterDeps): Promise<Cluster> {
  return retryingConcurrentUpdates(() => restartOnce(name, actor, deps));
}

async function restartOnce(name: string, actor: Actor, deps: RestartClusterDeps): Promise<Cluster> {
  const cluster = await findCluster(name, deps.store);
  assertMayChange(cluster, actor, 'restart', deps.access);
  if (cluster.state === 'RESTARTING') return cluster;
  assertTransition(cluster.state, 'RESTARTING');
  const roles = kindOf(cluster.plan.kind).restartRoles(cluster.plan);
  if (roles.length === 0) {
    const kept = cluster.plan.roles.map((role) => role.role).join(', ');
    throw new NothingToRestartError(
      `Cluster "${name}" has nothing to restart: a restart restarts a cluster's compute services and leaves its ${kept} as it is.`,
    );
  }

  const requestedAt = deps.clock.now();
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['READY'],
    to: 'RESTARTING',
    expectedVersion: cluster.version,
    changes: { deadline: restartDeadline(requestedAt, cluster.plan) },
    event: { step: 'restart-requested', message: `${requestedBy(actor, 'restart')}: ${roles.join(', ')}` },
  });
  // The version the transition above wrote: it required cluster.version.
  const restarting = { ...cluster, version: cluster.version + 1 };
  let executionArn: string;
  try {
    executionArn = await deps.workflows.start('restart', WORKFLOWS.restart.executionName(restarting), {
      clusterId: cluster.id,
      requestedAt: requestedAt.toISOString(),
      roles,
    });
  } catch (error) {
    // Nothing was restarted: the services run as before.
    const message = error instanceof Error ? error.message : String(error);
    await deps.store.transition(cluster.id, {
      name: cluster.name,
      from: ['RESTARTING'],
      to: 'READY',
      event: {
        step: 'start-workflow',
        message: `the restart workflow could not start: ${message}; nothing was restarted, run restart again to retry`,
      },
    });
    throw error;
  }
  await deps.store.update(cluster.id, { changes: { executionArn } });
  return loadCluster(deps.store, cluster.id);
}
