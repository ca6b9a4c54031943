import type { Clock, ClusterStore } from '../ports.ts';
import { loadCluster } from './record-updates.ts';

export interface RecordReadyInput {
  clusterId: string;
}

/** CREATING → READY, conditional on the version the step read. */
export async function recordReady(
  input: RecordReadyInput,
  deps: { store: ClusterStore; clock: Clock },
): Promise<{ state: 'READY'; seconds: number }> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const now = deps.clock.now();
  const seconds = Math.round((now.getTime() - Date.parse(cluster.createdAt)) / 100) / 10;
  await deps.store.transition(cluster.id, {
    from: ['CREATING'],
    to: 'READY',
    expectedVersion: cluster.version,
    changes: { readyAt: now.toISOString() },
    event: {
      step: 'record-ready',
      message: `ready in ${seconds.toFixed(1)} s: dashboard ${cluster.dashboardUrl}`,
    },
  });
  return { state: 'READY', seconds };
}
