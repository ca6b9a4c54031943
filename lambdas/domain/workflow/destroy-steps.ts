import { everyInstanceIn } from '../machines.ts';
import { type CleanupDeps, terminateAll } from './cleanup.ts';
import type { CaughtError } from './failure.ts';
import { describeCaughtError } from './failure.ts';
import { loadCluster } from './load-cluster.ts';

export interface DestroyStepInput {
  clusterId: string;
}

export async function terminateMachines(
  input: DestroyStepInput,
  deps: CleanupDeps,
): Promise<{ terminated: number }> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const count = cluster.instances?.length ?? 0;
  await deps.store.appendEvent(cluster.id, {
    step: 'terminate',
    message: `terminating ${count} instance${count === 1 ? '' : 's'}`,
  });
  // The machines read their secrets at boot only: gone now, whatever the machines take to end.
  const ids = await terminateAll(cluster.id, deps);
  await deps.secrets.removeAll(cluster.id);
  // CheckTerminated looks until every one is gone, or the destroy's deadline passes.
  return { terminated: ids.length };
}

export async function recordDestroyed(
  input: DestroyStepInput,
  deps: Pick<CleanupDeps, 'store'>,
): Promise<{ state: 'DESTROYED' }> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  // A retry of a step that already succeeded.
  if (cluster.state === 'DESTROYED') return { state: 'DESTROYED' };
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['DESTROYING'],
    to: 'DESTROYED',
    // CheckTerminated saw none left of those the cluster's tag names.
    changes: { roleInstances: everyInstanceIn(cluster.instances ?? [], 'terminated') },
    event: { step: 'record-destroyed', message: 'destroyed: every instance is terminated' },
  });
  return { state: 'DESTROYED' };
}

export interface RecordDestroyFailedInput extends DestroyStepInput {
  failedStep: string;
  error?: CaughtError;
}

/** The destroy could not finish: FAILED says why; destroying again retries. */
export async function recordDestroyFailed(
  input: RecordDestroyFailedInput,
  deps: Pick<CleanupDeps, 'store'>,
): Promise<{ state: 'FAILED' }> {
  const failure = { step: input.failedStep, ...describeCaughtError(input.error) };
  const cluster = await loadCluster(deps.store, input.clusterId);
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['DESTROYING'],
    to: 'FAILED',
    changes: { failure },
    event: {
      step: input.failedStep,
      message: `destroy failed at ${input.failedStep}: ${failure.message}; run destroy again to retry`,
    },
  });
  return { state: 'FAILED' };
}
