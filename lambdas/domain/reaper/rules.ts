/**
 * The reaper's rules, pure: when a cluster has lived too long, when its
 * idle time is up, when an in-progress cluster counts as stuck, and how
 * the reasons read. The sweep (use-cases/sweep-clusters.ts) applies them.
 */
import type { Cluster } from '../../../schemas/types.generated.ts';
import { deadlineOf } from '../deadlines.ts';

/** The deployment's reaper settings (CDK context on AWS, flags locally). */
export interface ReaperSettings {
  /** No cluster lives longer than this, whatever its profile says; 0: no ceiling. */
  maxLifetimeCeilingSeconds: number;
  /** A PAUSED cluster paused this long is destroyed; 0: never. */
  pausedMaxAgeSeconds: number;
  /** How long past its deadline an in-progress cluster is left to its own workflow's compensation. */
  stuckGraceSeconds: number;
  /**
   * How old a machine carrying the deployment's tag must be before it may
   * count as an orphan (its cluster unknown, DESTROYED or FAILED): a create
   * in flight is never touched.
   */
  orphanGraceSeconds: number;
  /**
   * Consecutive looks that could not tell a READY cluster's activity after
   * which, when none of its machines runs, the cluster is marked FAILED and
   * cleaned up; 0: never.
   */
  unknownLooksBeforeFailed: number;
}

export const REAPER_DEFAULTS: ReaperSettings = {
  maxLifetimeCeilingSeconds: 0,
  pausedMaxAgeSeconds: 0,
  stuckGraceSeconds: 300,
  orphanGraceSeconds: 900,
  unknownLooksBeforeFailed: 3,
};

/** How the reaper names itself in events (`requestedBy`). */
export const REAPER_SYSTEM = 'reaper';

/** The lifetime that applies: the profile's, capped by the deployment's ceiling; 0: none. */
export function lifetimeSecondsOf(cluster: Pick<Cluster, 'plan'>, settings: ReaperSettings): number {
  const limits = [cluster.plan.maxLifetimeSeconds, settings.maxLifetimeCeilingSeconds].filter((s) => s > 0);
  return limits.length === 0 ? 0 : Math.min(...limits);
}

/** Why the cluster must end for its age, or undefined while it may live. */
export function lifetimeReason(
  cluster: Pick<Cluster, 'plan' | 'createdAt'>,
  now: Date,
  settings: ReaperSettings,
): string | undefined {
  const limit = lifetimeSecondsOf(cluster, settings);
  const age = now.getTime() - Date.parse(cluster.createdAt);
  if (limit === 0 || age < limit * 1000) return undefined;
  return `reaped: reached its max_lifetime of ${durationText(limit * 1000)} (${durationText(age)} old)`;
}

/** Why the idle cluster must end, or undefined while its idle time is not up (or idle_timeout is 0). */
export function idleReason(cluster: Pick<Cluster, 'plan' | 'idleSince'>, now: Date): string | undefined {
  const timeout = cluster.plan.idleTimeoutSeconds;
  if (timeout === 0 || cluster.idleSince === undefined) return undefined;
  const idle = now.getTime() - Date.parse(cluster.idleSince);
  return idle >= timeout * 1000 ? `reaped: idle for ${durationText(idle)}` : undefined;
}

/** Why the PAUSED cluster must end, or undefined (paused_max_age off, or not paused that long). */
export function pausedReason(
  cluster: Pick<Cluster, 'updatedAt'>,
  now: Date,
  settings: ReaperSettings,
): string | undefined {
  if (settings.pausedMaxAgeSeconds === 0) return undefined;
  const paused = now.getTime() - Date.parse(cluster.updatedAt);
  if (paused < settings.pausedMaxAgeSeconds * 1000) return undefined;
  return `reaped: paused for ${durationText(paused)}, past the deployment's paused_max_age`;
}

/** The in-progress cluster is past its deadline and the grace its workflow had to settle it. */
export function isPastDeadline(
  cluster: Pick<Cluster, 'deadline' | 'createdAt' | 'plan'>,
  now: Date,
  settings: ReaperSettings,
): boolean {
  return now.getTime() >= deadlineOf(cluster) + settings.stuckGraceSeconds * 1000;
}

/** `45 s`, `61 min`, `2 h 5 min`, `3 d 4 h`. */
export function durationText(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}
