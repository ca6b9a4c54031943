/**
 * Every wait has a deadline. A cluster's operation in progress carries
 * one (`deadline` on the record): a create's is its profile's
 * ready_timeout from the create's start; a destroy's a fixed budget from
 * the request; a restart's and a resume's the profile's ready_timeout from
 * the request; a pause's a fixed budget (STOP_TIMEOUT_SECONDS) from the request.
 * Each poll loop of a workflow looks at it, and past it compensates as on
 * any other failure. The waits between two looks grow
 * with the time already spent, so a stuck operation costs a bounded number
 * of state transitions.
 */
import type { Cluster } from '../../schemas/types.generated.ts';

/** How long a destroy may take to see every machine gone: a deployment setting within these bounds. */
export const DESTROY_TIMEOUT_SECONDS = { default: 600, min: 60, max: 3600 } as const;

/** How long one sweep of the reaper may run: its Lambda's timeout, well under Lambda's 15 minutes. */
export const SWEEP_TASK_TIMEOUT_SECONDS = 600;

/**
 * A sweep execution's timeout: its task once, once more after a transient
 * Lambda error, and the retries' waits, with room to spare. `bilbo reap`
 * waits for the report this long, plus a margin.
 */
export const SWEEP_TIMEOUT_SECONDS = 2 * SWEEP_TASK_TIMEOUT_SECONDS + 300;

/** When a create must be READY: ready_timeout after it was accepted. */
export function createDeadline(cluster: Pick<Cluster, 'createdAt' | 'plan'>): string {
  return new Date(Date.parse(cluster.createdAt) + cluster.plan.readyTimeoutSeconds * 1000).toISOString();
}

/** When a restarted cluster must be READY again: ready_timeout after the restart was asked for. */
export function restartDeadline(
  requestedAt: Date,
  plan: Pick<Cluster['plan'], 'readyTimeoutSeconds'>,
): string {
  return new Date(requestedAt.getTime() + plan.readyTimeoutSeconds * 1000).toISOString();
}

/** How long a pause may take to see every machine stopped (EC2 stops an instance in a minute or two). */
export const STOP_TIMEOUT_SECONDS = 600;

/** When a paused cluster's machines must all be stopped: STOP_TIMEOUT_SECONDS after the pause was asked for. */
export function pauseDeadline(requestedAt: Date): string {
  return new Date(requestedAt.getTime() + STOP_TIMEOUT_SECONDS * 1000).toISOString();
}

/** When a resumed cluster must be READY again: ready_timeout after its machines were asked to start. */
export function resumeDeadline(
  requestedAt: Date,
  plan: Pick<Cluster['plan'], 'readyTimeoutSeconds'>,
): string {
  return restartDeadline(requestedAt, plan);
}

/** The deadline of the cluster's operation in progress, in epoch milliseconds. */
export function deadlineOf(cluster: Pick<Cluster, 'deadline' | 'createdAt' | 'plan'>): number {
  // Records written before deadlines were recorded were creates.
  return Date.parse(cluster.deadline ?? createDeadline(cluster));
}

/** From the start of a wait: how long between two looks, until the next step up. */
const POLL_SCHEDULE: ReadonlyArray<{ untilSeconds: number; everySeconds: number }> = [
  { untilSeconds: 30, everySeconds: 2 },
  { untilSeconds: 120, everySeconds: 5 },
  { untilSeconds: 600, everySeconds: 10 },
  { untilSeconds: Number.POSITIVE_INFINITY, everySeconds: 30 },
];

/**
 * Seconds to wait before the next look: short while a machine is likely
 * to change soon, longer as the wait drags on, and never past the
 * deadline, so the look that gives up comes right at it.
 */
export function pollDelaySeconds(waitedMs: number, remainingMs: number): number {
  const waited = Math.max(0, waitedMs) / 1000;
  const { everySeconds } = POLL_SCHEDULE.find((step) => waited < step.untilSeconds)!;
  return Math.max(1, Math.min(everySeconds, Math.ceil(remainingMs / 1000)));
}
