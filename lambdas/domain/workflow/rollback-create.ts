import { isEnded } from '../lifecycle.ts';
import { type CleanupDeps, terminateEverything } from './cleanup.ts';
import type { CaughtError } from './failure.ts';
import { describeCaughtError } from './failure.ts';
import { loadCluster } from './load-cluster.ts';

export interface RollbackCreateInput {
  clusterId: string;
  failedStep: string;
  error?: CaughtError;
}

/**
 * The create's compensation: nothing the failed create launched may keep
 * running, and the record says FAILED with the step and the reason.
 * Idempotent, so the workflow can retry it.
 */
export async function rollbackCreate(
  input: RollbackCreateInput,
  deps: CleanupDeps,
): Promise<{ terminated: number }> {
  const failure = { step: input.failedStep, ...describeCaughtError(input.error) };
  await deps.store.appendEvent(input.clusterId, {
    step: 'rollback',
    message: `${input.failedStep} failed (${failure.message}); terminating every instance of the cluster`,
  });
  const terminated = await terminateEverything(input.clusterId, deps);

  const cluster = await loadCluster(deps.store, input.clusterId);
  // An ended cluster already says how it ended, and one being destroyed (the
  // user asked while it was created) belongs to the destroy workflow.
  if (!isEnded(cluster.state) && cluster.state !== 'DESTROYING') {
    await deps.store.transition(cluster.id, {
      name: cluster.name,
      from: [cluster.state],
      to: 'FAILED',
      changes: { failure },
      event: { step: input.failedStep, message: `failed at ${input.failedStep}: ${failure.message}` },
    });
  }
  return { terminated: terminated.length };
}
