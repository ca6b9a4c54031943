import type { Cluster, ClusterEvent } from '../../../schemas/types.generated.ts';
import { ClusterNotFoundError } from '../errors.ts';
import type { ClusterStore } from '../ports.ts';

export async function describeCluster(name: string, store: ClusterStore): Promise<Cluster> {
  const cluster = await store.findByName(name);
  if (!cluster) throw new ClusterNotFoundError(name);
  return cluster;
}

export function listClusters(includeEnded: boolean, store: ClusterStore): Promise<Cluster[]> {
  return store.list({ includeEnded });
}

export async function listClusterEvents(
  name: string,
  after: string | undefined,
  store: ClusterStore,
): Promise<ClusterEvent[]> {
  const cluster = await describeCluster(name, store);
  return store.events(cluster.id, after === undefined ? {} : { after });
}
