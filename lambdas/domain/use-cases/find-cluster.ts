import type { Cluster } from '../../../schemas/types.generated.ts';
import { ClusterNotFoundError } from '../errors.ts';
import type { ClusterStore } from '../ports.ts';

/** The live cluster of that name (or the newest ended one), or a 404 naming it. */
export async function findCluster(name: string, store: Pick<ClusterStore, 'findByName'>): Promise<Cluster> {
  const cluster = await store.findByName(name);
  if (!cluster) throw new ClusterNotFoundError(name);
  return cluster;
}
