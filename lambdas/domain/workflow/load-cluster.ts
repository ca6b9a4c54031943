import type { Cluster } from '../../../schemas/types.generated.ts';
import { ClusterIdNotFoundError } from '../errors.ts';
import type { ClusterStore } from '../ports.ts';

export async function loadCluster(store: ClusterStore, clusterId: string): Promise<Cluster> {
  const cluster = await store.get(clusterId);
  if (!cluster) throw new ClusterIdNotFoundError(clusterId);
  return cluster;
}

/** Where people look once a cluster is ready, for the event that says so: `dashboard …, notebook …`. */
export function urlsToLook(cluster: Pick<Cluster, 'dashboardUrl' | 'notebookUrl'>): string {
  const urls = [
    ...(cluster.dashboardUrl ? [`dashboard ${cluster.dashboardUrl}`] : []),
    ...(cluster.notebookUrl ? [`notebook ${cluster.notebookUrl}`] : []),
  ];
  return urls.join(', ');
}
