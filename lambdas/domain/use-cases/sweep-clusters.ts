/**
 * The reaper's sweep: one look at every live cluster, acting on what the
 * rules (lambdas/domain/reaper/rules.ts) say. A READY cluster past its
 * max_lifetime, or idle for its idle_timeout, ends; a PAUSED one past the
 * deployment's paused_max_age ends; a cluster stuck in an in-progress state
 * (its workflow gone, or past its deadline) is settled; a READY or PAUSED
 * one whose machines are all gone, or a READY one no look could tell about
 * for unknownLooksBeforeFailed sweeps while none of its machines runs, is
 * FAILED and cleaned up (use-cases/sweep-drift.ts). Then the orphan pass
 * (use-cases/sweep-orphans.ts). Every action is an event on the cluster,
 * through the same use cases people call, as the reaper (a SystemActor), so
 * the reason stays on the record.
 *
 * Safe to run twice at once: each action starts with a conditional write
 * on the version the sweep read, and only the sweep that wins it acts.
 */
import type { Cluster, SweepReport } from '../../../schemas/types.generated.ts';
import type { SystemActor } from '../access.ts';
import { mapBounded } from '../bounded.ts';
import { ConcurrentUpdateError, IllegalTransitionError } from '../errors.ts';
import type { CommandStore, RecordChanges } from '../ports.ts';
import { lookAtActivity } from '../reaper/activity.ts';
import { type MachinesSeen, noneRunning } from '../reaper/drift.ts';
import { holdsWork } from '../reaper/kept-work.ts';
import {
  idleReason,
  isPastDeadline,
  lifetimeReason,
  pausedReason,
  REAPER_SYSTEM,
  type ReaperSettings,
} from '../reaper/rules.ts';
import { checkNothingLost, type SafetyCheckDeps } from '../reaper/safety-check.ts';
import { destroyCluster } from './destroy-cluster.ts';
import { pauseCluster } from './pause-cluster.ts';
import { type HealthDeps, refreshHealthOfAll, type ServicesProbe } from './refresh-health.ts';
import { type SettleDeps, settleInProgress } from './settle-abandoned-clusters.ts';
import { describeRecorded, failAndCleanUp, sweepDrift } from './sweep-drift.ts';
import { sweepOrphans } from './sweep-orphans.ts';

export interface SweepDeps extends SettleDeps, Omit<HealthDeps, 'provider'>, SafetyCheckDeps {
  commands: Pick<CommandStore, 'listCommands'>;
  /** Where the services can be reached from; absent, no READY cluster is ever idle (all "unknown"). */
  servicesProbe?: ServicesProbe;
  reaper: ReaperSettings;
}

export interface SweepOptions {
  /** Change nothing: report what the sweep would do. */
  dryRun?: boolean;
}

/** Clusters looked at at once (each a probe of its services, and a write or two). */
export const SWEEP_CONCURRENCY = 16;

/** How long a record whose workflow ended must have been left alone before it counts as stuck. */
const QUIET_MS = 60_000;

const STEP = 'reaper';

type Outcome =
  | { kind: 'none' | 'idle' | 'unknown' }
  | { kind: 'error'; reason: string }
  | { kind: 'acted'; action: 'destroy' | 'pause' | 'fail'; reason: string; idle?: boolean };

export async function sweepClusters(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepReport> {
  const startedAt = deps.clock.now();
  const dryRun = options.dryRun === true;
  let clusters = await deps.store.list();
  if (!dryRun) {
    const ready = clusters.filter((cluster) => cluster.state === 'READY');
    const healthy = await refreshHealthOfAll(ready, deps, { concurrency: SWEEP_CONCURRENCY });
    const refreshed = new Map(healthy.map((c) => [c.id, c]));
    clusters = clusters.map((cluster) => refreshed.get(cluster.id) ?? cluster);
  }
  const report: SweepReport = {
    startedAt: startedAt.toISOString(),
    dryRun,
    checked: clusters.length,
    idle: 0,
    destroyed: 0,
    paused: 0,
    failed: 0,
    unknown: 0,
    orphansRemoved: 0,
    errors: 0,
    durationMs: 0,
    actions: [],
  };
  const seen = await describeRecorded(clusters, deps.provider);
  const outcomes = await mapBounded(clusters, SWEEP_CONCURRENCY, (cluster) =>
    sweepOne(cluster, deps, dryRun, seen).catch(
      (error: unknown): Outcome => ({
        kind: 'error',
        reason: error instanceof Error ? error.message : String(error),
      }),
    ),
  );
  outcomes.forEach((outcome, at) => {
    if (outcome.kind === 'idle') report.idle += 1;
    if (outcome.kind === 'unknown') report.unknown += 1;
    const cluster = clusters[at]!.name;
    if (outcome.kind === 'error') {
      report.errors += 1;
      report.actions.push({ cluster, action: 'error', reason: outcome.reason });
    }
    if (outcome.kind !== 'acted') return;
    if (outcome.idle) report.idle += 1;
    if (outcome.action === 'destroy') report.destroyed += 1;
    if (outcome.action === 'pause') report.paused += 1;
    if (outcome.action === 'fail') report.failed += 1;
    report.actions.push({ cluster, action: outcome.action, reason: outcome.reason });
  });
  const orphans = await sweepOrphans(clusters, deps, dryRun);
  report.orphansRemoved = orphans.removed;
  report.paused += orphans.stopped;
  report.errors += orphans.errors;
  report.actions.push(...orphans.actions);
  report.durationMs = Math.max(0, deps.clock.now().getTime() - startedAt.getTime());
  return report;
}

async function sweepOne(
  cluster: Cluster,
  deps: SweepDeps,
  dryRun: boolean,
  seen: MachinesSeen,
): Promise<Outcome> {
  const now = deps.clock.now();
  if (cluster.state === 'READY' || cluster.state === 'PAUSED') {
    const drifted = await sweepDrift(cluster, seen, deps, dryRun);
    if (drifted) return { kind: 'acted', action: 'fail', reason: drifted.reason };
  }
  switch (cluster.state) {
    case 'READY':
      return sweepReady(cluster, deps, dryRun, seen);
    case 'PAUSED': {
      // A stopped notebook cannot be checked for unsaved work: paused_max_age leaves it alone.
      if ((cluster.instances ?? []).some(holdsWork)) return { kind: 'none' };
      const reason = pausedReason(cluster, now, deps.reaper);
      return reason ? end(cluster, reason, deps, dryRun) : { kind: 'none' };
    }
    case 'CREATING':
    case 'DESTROYING':
    case 'PAUSING':
    case 'RESUMING':
    case 'RESTARTING': {
      const why = await stuckReason(cluster, deps);
      if (!why) return { kind: 'none' };
      if (dryRun) return { kind: 'acted', action: 'fail', reason: why };
      const done = await settleInProgress(cluster, why, deps, STEP).catch((error: unknown) => {
        if (error instanceof ConcurrentUpdateError || error instanceof IllegalTransitionError)
          return undefined;
        throw error;
      });
      return done ? { kind: 'acted', action: 'fail', reason: `${why}: ${done}` } : { kind: 'none' };
    }
    default:
      return { kind: 'none' };
  }
}

async function sweepReady(
  cluster: Cluster,
  deps: SweepDeps,
  dryRun: boolean,
  seen: MachinesSeen,
): Promise<Outcome> {
  const now = deps.clock.now();
  const old = lifetimeReason(cluster, now, deps.reaper);
  if (old) return end(cluster, old, deps, dryRun);
  if (cluster.plan.idleTimeoutSeconds === 0) return { kind: 'none' };
  if (!deps.servicesProbe) return { kind: 'unknown' };

  const verdict = await lookAtActivity(cluster, {
    servicesProbe: deps.servicesProbe,
    commands: deps.commands,
    clock: deps.clock,
  });
  if (verdict.state === 'unknown') {
    const failed = await unknownTooOften(cluster, verdict.why, deps, dryRun, seen);
    if (failed) return failed;
  }
  const unknownLooks = verdict.state === 'unknown' ? (cluster.unknownLooks ?? 0) + 1 : undefined;
  const looks: RecordChanges = unknownLooks === cluster.unknownLooks ? {} : { unknownLooks };
  if (verdict.state !== 'idle') {
    // Unknown is never idle: the idle time starts again once the services answer.
    const changes: RecordChanges = {
      ...looks,
      ...(cluster.idleSince === undefined ? {} : { idleSince: undefined }),
      ...(verdict.mark === undefined || verdict.mark === cluster.activityMark
        ? {}
        : { activityMark: verdict.mark }),
    };
    if (!dryRun) await note(cluster, changes, deps);
    return { kind: verdict.state === 'unknown' ? 'unknown' : 'none' };
  }
  if (cluster.idleSince === undefined) {
    if (!dryRun) {
      await note(
        cluster,
        { ...looks, idleSince: now.toISOString(), ...(verdict.mark ? { activityMark: verdict.mark } : {}) },
        deps,
      );
    }
    return { kind: 'idle' };
  }
  const reason = idleReason(cluster, now);
  if (reason) {
    const ended = await end(cluster, reason, deps, dryRun);
    return ended.kind === 'acted' ? { ...ended, idle: true } : { kind: 'idle' };
  }
  if (!dryRun) {
    const mark = verdict.mark !== undefined && verdict.mark !== cluster.activityMark;
    await note(cluster, { ...looks, ...(mark ? { activityMark: verdict.mark } : {}) }, deps);
  }
  return { kind: 'idle' };
}

/**
 * A look that could not tell, after unknownLooksBeforeFailed - 1 others in a
 * row, at a cluster none of whose machines runs: it is FAILED and cleaned
 * up. Undefined while the rule does not apply (or is off: 0).
 */
async function unknownTooOften(
  cluster: Cluster,
  why: string,
  deps: SweepDeps,
  dryRun: boolean,
  seen: MachinesSeen,
): Promise<Outcome | undefined> {
  const limit = deps.reaper.unknownLooksBeforeFailed;
  const looks = (cluster.unknownLooks ?? 0) + 1;
  if (limit === 0 || looks < limit || !noneRunning(cluster, seen)) return undefined;
  const states = (cluster.instances ?? []).map((i) => seen?.get(i.id)?.state).join(', ');
  const reason = `reaped: ${looks} looks in a row could not tell whether it is in use (${why}), and none of its instances runs (${states})`;
  if (dryRun) return { kind: 'acted', action: 'fail', reason };
  const done = await failAndCleanUp(cluster, reason, deps);
  return done ? { kind: 'acted', action: 'fail', reason: done } : { kind: 'none' };
}

/** Records what the look saw, only on the version the sweep read; a cluster that moved meanwhile is left alone. */
async function note(cluster: Cluster, changes: RecordChanges, deps: SweepDeps): Promise<void> {
  if (Object.keys(changes).length === 0) return;
  try {
    await deps.store.update(cluster.id, { changes, inStates: ['READY'], expectedVersion: cluster.version });
  } catch (error) {
    if (!(error instanceof ConcurrentUpdateError)) throw error;
  }
}

/**
 * Ends the cluster: a READY one's notebook is checked for unsaved work
 * first, and paused instead when it has some (or cannot be checked). Then
 * a conditional write of the reason as an event on the version this sweep
 * read (of two sweeps, one wins it), and the destroy or the pause.
 */
async function end(cluster: Cluster, why: string, deps: SweepDeps, dryRun: boolean): Promise<Outcome> {
  if (dryRun) return { kind: 'acted', action: 'destroy', reason: why };
  const verdict = cluster.state === 'READY' ? await checkNothingLost(cluster, deps) : { safe: true as const };
  const action = verdict.safe ? 'destroy' : 'pause';
  const reason = verdict.safe ? why : `${why}; paused instead: ${verdict.why}`;
  try {
    await deps.store.update(cluster.id, {
      changes: { idleSince: undefined },
      inStates: [cluster.state],
      expectedVersion: cluster.version,
      event: { step: STEP, message: reason },
    });
  } catch (error) {
    if (error instanceof ConcurrentUpdateError) return { kind: 'none' };
    throw error;
  }
  const actor: SystemActor = { system: REAPER_SYSTEM, reason };
  if (action === 'pause') await pauseCluster(cluster.name, actor, deps);
  else await destroyCluster(cluster.name, actor, deps);
  return { kind: 'acted', action, reason };
}

/** Why an in-progress cluster counts as stuck, or undefined while its workflow may still settle it. */
async function stuckReason(cluster: Cluster, deps: SweepDeps): Promise<string | undefined> {
  const now = deps.clock.now();
  const doing = cluster.state.toLowerCase();
  if (isPastDeadline(cluster, now, deps.reaper)) return `stuck ${doing} past its deadline`;
  if (!cluster.executionArn || now.getTime() - Date.parse(cluster.updatedAt) < QUIET_MS) return undefined;
  return (await deps.workflows.isRunning(cluster.executionArn)) === false
    ? `stuck ${doing}: its workflow is no longer running`
    : undefined;
}
