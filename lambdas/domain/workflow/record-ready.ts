import type { Clock, ClusterStore } from '../ports.ts';
import { loadCluster, urlsToLook } from './load-cluster.ts';

export interface RecordReadyInput {
  clusterId: string;
}

/**
 * CREATING → READY, conditional on the state: the record's other writers
 * (the API setting the execution ARN, progress updates) may bump the
 * version meanwhile, and must not fail the create. A retry of a step that
 * already succeeded (its answer was lost) answers READY again instead of
 * failing the create, which would roll back a ready cluster.
 */
export async function recordReady(
  input: RecordReadyInput,
  deps: { store: ClusterStore; clock: Clock },
): Promise<{ state: 'READY'; seconds: number }> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  if (cluster.state === 'READY' && cluster.readyAt) {
    return { state: 'READY', seconds: secondsBetween(cluster.createdAt, Date.parse(cluster.readyAt)) };
  }
  const now = deps.clock.now();
  const seconds = secondsBetween(cluster.createdAt, now.getTime());
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['CREATING'],
    to: 'READY',
    changes: { readyAt: now.toISOString() },
    event: {
      step: 'record-ready',
      message: `ready in ${seconds.toFixed(1)} s: ${urlsToLook(cluster)}`,
    },
  });
  return { state: 'READY', seconds };
}

function secondsBetween(createdAt: string, endMs: number): number {
  return Math.round((endMs - Date.parse(createdAt)) / 100) / 10;
}
