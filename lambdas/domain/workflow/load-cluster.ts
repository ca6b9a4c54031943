import type { Cluster } from '../../../schemas/types.generated.ts';
import { ClusterIdNotFoundError } from '../errors.ts';
import type { ClusterStore } from '../ports.ts';

export async function loadCluster(store: ClusterStore, clusterId: string): Promise<Cluster> {
  const cluster = await store.get(clusterId);
  if (!cluster) throw new ClusterIdNotFoundError(clusterId);
  return cluster;
}
