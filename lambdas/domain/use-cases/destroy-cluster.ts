import type { Cluster } from '../../../schemas/types.generated.ts';
import { ClusterNotFoundError } from '../errors.ts';
import { assertTransition, sourcesOf } from '../lifecycle.ts';
import type { Clock, ClusterStore, WorkflowStarter } from '../ports.ts';
import { loadCluster } from '../workflow/load-cluster.ts';
import { WORKFLOWS } from '../workflows.ts';

export interface DestroyClusterDeps {
  store: ClusterStore;
  workflows: WorkflowStarter;
  clock: Clock;
  /** How long a destroy may take to see every machine gone (a deployment setting). */
  destroyTimeoutSeconds: number;
}

/**
 * Moves the cluster to DESTROYING and starts the destroy workflow. Asking
 * again while it is being destroyed answers the same record, so a retried
 * request is harmless. When the workflow cannot start, the record goes to
 * FAILED, from which destroying again is allowed; left DESTROYING, no
 * request could ever start it.
 */
export async function destroyCluster(
  name: string,
  requester: string,
  deps: DestroyClusterDeps,
): Promise<Cluster> {
  const cluster = await deps.store.findByName(name);
  if (!cluster) throw new ClusterNotFoundError(name);
  if (cluster.state === 'DESTROYING') return cluster;
  assertTransition(cluster.state, 'DESTROYING');

  const requestedAt = deps.clock.now();
  const deadline = new Date(requestedAt.getTime() + deps.destroyTimeoutSeconds * 1000).toISOString();
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: sourcesOf('DESTROYING'),
    to: 'DESTROYING',
    expectedVersion: cluster.version,
    changes: { deadline },
    event: { step: 'destroy-requested', message: `destroy requested by ${requester}` },
  });
  let executionArn: string;
  try {
    // The version the transition above wrote: it required cluster.version.
    const destroying = { id: cluster.id, version: cluster.version + 1 };
    executionArn = await deps.workflows.start('destroy', WORKFLOWS.destroy.executionName(destroying), {
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
