import type { Cluster } from '../../../schemas/types.generated.ts';
import { type AccessPolicy, type Actor, assertMayChange, requestedBy } from '../access.ts';
import { assertTransition, sourcesOf } from '../lifecycle.ts';
import type { Clock, ClusterStore, WorkflowStarter } from '../ports.ts';
import { loadCluster } from '../workflow/load-cluster.ts';
import { WORKFLOWS } from '../workflows.ts';
import { findCluster } from './find-cluster.ts';
import { retryingConcurrentUpdates } from './retry-concurrent.ts';

export interface DestroyClusterDeps {
  store: ClusterStore;
  workflows: WorkflowStarter;
  clock: Clock;
  /** How long a destroy may take to see every machine gone (a deployment setting). */
  destroyTimeoutSeconds: number;
  access: AccessPolicy;
}

/**
 * Moves the cluster to DESTROYING and starts the destroy workflow, when
 * `actor` may (the owner or an admin). Asking again while it is being
 * destroyed answers the same record, so a retried request is harmless.
 */
export function destroyCluster(name: string, actor: Actor, deps: DestroyClusterDeps): Promise<Cluster> {
  return retryingConcurrentUpdates(() => destroyOnce(name, actor, deps));
}

async function destroyOnce(name: string, actor: Actor, deps: DestroyClusterDeps): Promise<Cluster> {
  const cluster = await findCluster(name, deps.store);
  assertMayChange(cluster, actor, 'destroy', deps.access);
  if (cluster.state === 'DESTROYING') return cluster;
  assertTransition(cluster.state, 'DESTROYING');

  const requestedAt = deps.clock.now();
  // Kept on the record, so a list of ended clusters says why each ended without reading its events.
  const destroyReason = requestedBy(actor, 'destroy');
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: sourcesOf('DESTROYING'),
    to: 'DESTROYING',
    expectedVersion: cluster.version,
    changes: { deadline: destroyDeadline(requestedAt, deps), destroyReason },
    event: { step: 'destroy-requested', message: destroyReason },
  });
  // The version the transition above wrote: it required cluster.version.
  return startDestroyWorkflow({ ...cluster, version: cluster.version + 1 }, requestedAt, deps);
}

/**
 * Starts the destroy workflow of a DESTROYING cluster at `cluster.version`.
 * When the workflow cannot start, the record goes to FAILED, from which
 * destroying again is allowed; left DESTROYING, no request could ever
 * start it.
 */
export async function startDestroyWorkflow(
  cluster: Pick<Cluster, 'id' | 'name' | 'version'>,
  requestedAt: Date,
  deps: Omit<DestroyClusterDeps, 'access'>,
): Promise<Cluster> {
  let executionArn: string;
  try {
    executionArn = await deps.workflows.start('destroy', WORKFLOWS.destroy.executionName(cluster), {
      clusterId: cluster.id,
      requestedAt: requestedAt.toISOString(),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deps.store.transition(cluster.id, {
      name: cluster.name,
      from: ['DESTROYING'],
      to: 'FAILED',
      changes: { failure: { step: 'start-workflow', message } },
      event: {
        step: 'start-workflow',
        message: `the destroy workflow could not start: ${message}; run destroy again to retry`,
      },
    });
    throw error;
  }
  await deps.store.update(cluster.id, { changes: { executionArn } });
  return loadCluster(deps.store, cluster.id);
}

export function destroyDeadline(
  requestedAt: Date,
  deps: Pick<DestroyClusterDeps, 'destroyTimeoutSeconds'>,
): string {
  return new Date(requestedAt.getTime() + deps.destroyTimeoutSeconds * 1000).toISOString();
}
