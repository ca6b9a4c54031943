import type { Cluster } from '../../../schemas/types.generated.ts';
import { ClusterIdNotFoundError, ConcurrentUpdateError } from '../errors.ts';
import type { ClusterStore, NewEvent, TransitionRequest } from '../ports.ts';

const MAX_ATTEMPTS = 5;

export async function loadCluster(store: ClusterStore, clusterId: string): Promise<Cluster> {
  const cluster = await store.get(clusterId);
  if (!cluster) throw new ClusterIdNotFoundError(clusterId);
  return cluster;
}

/**
 * Applies a change computed from the latest record, re-reading and trying
 * again when another writer moved the version in between (the API and the
 * workflow both write to a cluster while it is being created).
 */
export async function updateLatest(
  store: ClusterStore,
  clusterId: string,
  change: (cluster: Cluster) => TransitionRequest['changes'],
  event?: NewEvent,
): Promise<Cluster> {
  for (let attempt = 1; ; attempt++) {
    const cluster = await loadCluster(store, clusterId);
    try {
      return await store.update(clusterId, cluster.version, change(cluster), event);
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
