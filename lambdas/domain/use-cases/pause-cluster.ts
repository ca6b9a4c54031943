import type { Cluster, ClusterState } from '../../../schemas/types.generated.ts';
import { type AccessPolicy, type Actor, assertMayChange, requestedBy } from '../access.ts';
import { pauseDeadline, resumeDeadline } from '../deadlines.ts';
import { assertTransition } from '../lifecycle.ts';
import type { Clock, ClusterStore, WorkflowStarter } from '../ports.ts';
import { loadCluster } from '../workflow/load-cluster.ts';
import { WORKFLOWS } from '../workflows.ts';
import { findCluster } from './find-cluster.ts';
import { retryingConcurrentUpdates } from './retry-concurrent.ts';

export interface PauseClusterDeps {
  store: ClusterStore;
  workflows: WorkflowStarter;
  clock: Clock;
  access: AccessPolicy;
}

/**
 * Moves a READY cluster to PAUSING and starts the pause workflow, when
 * `actor` may (the owner or an admin). Asking again while it pauses
 * answers the same record, so a retried request is harmless.
 */
export function pauseCluster(name: string, actor: Actor, deps: PauseClusterDeps): Promise<Cluster> {
  return retryingConcurrentUpdates(() => pauseOrResume('pause', name, actor, deps));
}

/**
 * Moves a PAUSED cluster to RESUMING and starts the resume workflow, when
 * `actor` may. Asking again while it resumes answers the same record.
 */
export function resumeCluster(name: string, actor: Actor, deps: PauseClusterDeps): Promise<Cluster> {
  return retryingConcurrentUpdates(() => pauseOrResume('resume', name, actor, deps));
}

const MOVES = {
  pause: { from: 'READY', to: 'PAUSING', back: 'paused' },
  resume: { from: 'PAUSED', to: 'RESUMING', back: 'resumed' },
} as const satisfies Record<string, { from: ClusterState; to: ClusterState; back: string }>;

async function pauseOrResume(
  action: 'pause' | 'resume',
  name: string,
  actor: Actor,
  deps: PauseClusterDeps,
): Promise<Cluster> {
  const { from, to, back } = MOVES[action];
  const cluster = await findCluster(name, deps.store);
  assertMayChange(cluster, actor, action, deps.access);
  if (cluster.state === to) return cluster;
  assertTransition(cluster.state, to);

  const requestedAt = deps.clock.now();
  const deadline =
    action === 'pause' ? pauseDeadline(requestedAt) : resumeDeadline(requestedAt, cluster.plan);
  const why = requestedBy(actor, action);
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: [from],
    to,
    expectedVersion: cluster.version,
    // An earlier pause's or resume's failure is history now (the events keep it).
    changes: { deadline, failure: undefined, ...(action === 'pause' ? { pauseReason: why } : {}) },
    event: { step: `${action}-requested`, message: why },
  });
  // The version the transition above wrote: it required cluster.version.
  const moving = { ...cluster, version: cluster.version + 1 };
  let executionArn: string;
  try {
    executionArn = await deps.workflows.start(action, WORKFLOWS[action].executionName(moving), {
      clusterId: cluster.id,
      requestedAt: requestedAt.toISOString(),
    });
  } catch (error) {
    // Nothing was stopped or started: the machines are as they were.
    const message = error instanceof Error ? error.message : String(error);
    await deps.store.transition(cluster.id, {
      name: cluster.name,
      from: [to],
      to: from,
      event: {
        step: 'start-workflow',
        message: `the ${action} workflow could not start: ${message}; nothing was ${back}, run ${action} again to retry`,
      },
    });
    throw error;
  }
  await deps.store.update(cluster.id, { changes: { executionArn } });
  return loadCluster(deps.store, cluster.id);
}
