/**
 * The sweep's look at what the provider says of live records' machines
 * (issue 10 §6, the other way round from orphans): a READY or PAUSED
 * record whose machines are all gone is FAILED with the reason; a PAUSED
 * one with some gone is degraded. And the one way the sweep fails a
 * cluster it finds broken: FAILED first (a conditional write on the
 * version it read: of two sweeps, one wins), then every machine carrying
 * the cluster's tag terminated, as a rollback does, but a stopped notebook
 * (reaper/kept-work.ts).
 */
import type { Cluster } from '../../../schemas/types.generated.ts';
import { ConcurrentUpdateError, IllegalTransitionError } from '../errors.ts';
import { healthEvent } from '../health.ts';
import type { Machine, MachineProvider } from '../ports.ts';
import { driftOf, type MachinesSeen, pausedDriftHealth } from '../reaper/drift.ts';
import { isStoppedWork, keptWorkText } from '../reaper/kept-work.ts';
import { type CleanupDeps, terminateEverything } from '../workflow/cleanup.ts';

const STEP = 'reaper';

/**
 * The machines of every READY and PAUSED record, described in one batched
 * call; undefined when the provider cannot answer now (then no rule that
 * needs them acts in this sweep).
 */
export async function describeRecorded(
  clusters: readonly Cluster[],
  provider: Pick<MachineProvider, 'describe'>,
): Promise<MachinesSeen> {
  const ids = clusters
    .filter((cluster) => cluster.state === 'READY' || cluster.state === 'PAUSED')
    .flatMap((cluster) => (cluster.instances ?? []).map((instance) => instance.id));
  if (ids.length === 0) return new Map();
  try {
    return new Map((await provider.describe(ids)).map((machine): [string, Machine] => [machine.id, machine]));
  } catch {
    return undefined;
  }
}

/** What drift made the sweep do to the cluster: FAILED it (or would), with the reason; undefined: nothing. */
export async function sweepDrift(
  cluster: Cluster,
  seen: MachinesSeen,
  deps: CleanupDeps,
  dryRun: boolean,
): Promise<{ reason: string } | undefined> {
  const drift = driftOf(cluster, seen);
  if (drift.kind === 'gone') {
    if (dryRun) return { reason: drift.reason };
    const done = await failAndCleanUp(cluster, drift.reason, deps);
    return done ? { reason: done } : undefined;
  }
  // A READY cluster's lost machines are its health refresh's to report.
  if (drift.kind === 'partly' && cluster.state === 'PAUSED' && !dryRun) {
    const health = pausedDriftHealth(cluster, drift.lost, deps.clock.now());
    const message = healthEvent(cluster.health, health);
    if (message === undefined) return undefined;
    await deps.store
      .update(cluster.id, {
        changes: { health },
        inStates: ['PAUSED'],
        expectedVersion: cluster.version,
        event: { step: STEP, message },
      })
      .catch((error: unknown) => {
        if (!(error instanceof ConcurrentUpdateError)) throw error;
      });
  }
  return undefined;
}

/**
 * Records the cluster FAILED with the reason, on the version the sweep
 * read, then terminates whatever carries its tag and removes its secrets;
 * a stopped notebook and its secrets are kept.
 * Undefined when the cluster moved meanwhile (another sweep, a workflow).
 * What the termination could not remove, the orphan pass removes later.
 */
export async function failAndCleanUp(
  cluster: Cluster,
  why: string,
  deps: CleanupDeps,
): Promise<string | undefined> {
  try {
    await deps.store.transition(cluster.id, {
      name: cluster.name,
      from: [cluster.state],
      to: 'FAILED',
      expectedVersion: cluster.version,
      changes: { failure: { step: STEP, message: why }, idleSince: undefined, unknownLooks: undefined },
      event: { step: STEP, message: `${why}: FAILED, terminating whatever is left` },
    });
  } catch (error) {
    if (error instanceof ConcurrentUpdateError || error instanceof IllegalTransitionError) return undefined;
    throw error;
  }
  try {
    const machines = await deps.provider.findByCluster(cluster.id);
    const kept = machines.filter(isStoppedWork).map((m) => m.id);
    if (kept.length === 0) {
      await terminateEverything(cluster.id, deps);
      return `${why}: FAILED, every instance terminated`;
    }
    // Its secrets stay with the notebook: the destroy that removes the notebook removes them.
    const rest = machines.filter((m) => !kept.includes(m.id));
    if (rest.length > 0) await deps.provider.terminate(rest.map((m) => m.id));
    const note = keptWorkText(kept);
    await deps.store.appendEvent(cluster.id, { step: STEP, message: note });
    return `${why}: FAILED, ${note}`;
  } catch (error) {
    const left = `not every instance could be terminated (${error instanceof Error ? error.message : String(error)}); the reaper removes them as orphans`;
    await deps.store.appendEvent(cluster.id, { step: STEP, message: left });
    return `${why}: FAILED, ${left}`;
  }
}
