import { isEnded } from '../lifecycle.ts';
import { everyInstanceIn } from '../machines.ts';
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
 * running, and the record says FAILED with the step and the reason — even
 * when some machine is not yet confirmed gone: then FAILED says so, and the
 * step throws so the workflow's retry terminates again (destroying the
 * cluster later retries too). Idempotent, so the workflow can retry it.
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
  const terminated = await terminateEverything(input.clusterId, deps).then(
    (ids) => ({ ids }),
    (error: unknown) => ({ error }),
  );

  const cluster = await loadCluster(deps.store, input.clusterId);
  // An ended cluster already says how it ended, and one being destroyed (the
  // user asked while it was created) belongs to the destroy workflow.
  if (!isEnded(cluster.state) && cluster.state !== 'DESTROYING') {
    const left =
      'error' in terminated
        ? `; the rollback could not confirm that every instance is gone (${messageOf(terminated.error)}): destroy the cluster to try again`
        : '';
    await deps.store.transition(cluster.id, {
      name: cluster.name,
      from: [cluster.state],
      to: 'FAILED',
      changes: {
        failure: { ...failure, message: `${failure.message}${left}` },
        // Confirmed gone, or else left as last seen.
        ...('error' in terminated
          ? {}
          : { roleInstances: everyInstanceIn(cluster.instances ?? [], 'terminated') }),
      },
      event: { step: input.failedStep, message: `failed at ${input.failedStep}: ${failure.message}${left}` },
    });
  }
  if ('error' in terminated) throw terminated.error;
  return { terminated: terminated.ids.length };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
