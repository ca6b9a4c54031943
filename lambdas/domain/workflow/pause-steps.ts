/**
 * The pause workflow's steps: ask every machine to stop, record PAUSED once
 * the check saw them all stopped, and the compensation: a pause that could
 * not stop every machine starts them again and waits as a resume does.
 */
import { resumeDeadline } from '../deadlines.ts';
import { everyInstanceIn } from '../machines.ts';
import type { Clock, ClusterStore, MachineProvider } from '../ports.ts';
import { describeVolumes } from '../volumes.ts';
import { type CaughtError, describeCaughtError } from './failure.ts';
import { loadCluster } from './load-cluster.ts';
import { moveEveryMachine, recordCannotMoveBack, refusalOf } from './machine-moves.ts';

export interface PauseStepDeps {
  store: ClusterStore;
  provider: MachineProvider;
  clock: Clock;
}

export interface StopMachinesInput {
  clusterId: string;
}

/** Asks for every recorded machine to stop; CheckStopped looks until they have. Idempotent. */
export async function stopMachines(
  input: StopMachinesInput,
  deps: Pick<PauseStepDeps, 'store' | 'provider'>,
): Promise<{ stopping: number }> {
  return { stopping: await moveEveryMachine('stop', input.clusterId, deps) };
}

export interface RecordPausedInput {
  clusterId: string;
  requestedAt: string;
}

/**
 * PAUSING → PAUSED, once every machine was seen stopped. The readiness the
 * probe recorded is cleared, so a resume reports it afresh. A retry of a
 * step that already succeeded answers PAUSED again.
 */
export async function recordPaused(
  input: RecordPausedInput,
  deps: Pick<PauseStepDeps, 'store' | 'clock'>,
): Promise<{ state: 'PAUSED'; seconds: number }> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const seconds = secondsSince(input.requestedAt, deps.clock);
  if (cluster.state === 'PAUSED') return { state: 'PAUSED', seconds };
  const count = cluster.instances?.length ?? 0;
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['PAUSING'],
    to: 'PAUSED',
    changes: {
      roleInstances: everyInstanceIn(cluster.instances ?? [], 'stopped'),
      workersJoined: 0,
      dashboardAnsweredAt: undefined,
    },
    event: {
      step: 'record-paused',
      message: `paused in ${seconds.toFixed(1)} s: ${count} instance${count === 1 ? '' : 's'} stopped; their volumes still cost (${describeVolumes(cluster.plan)}); \`bilbo resume ${cluster.name}\` starts them again`,
    },
  });
  return { state: 'PAUSED', seconds };
}

export interface RecordPauseFailedInput {
  clusterId: string;
  failedStep: string;
  error?: CaughtError;
}

export interface RecordPauseFailedOutput {
  state: 'RESUMING' | 'FAILED' | 'PAUSED' | 'READY';
  /** When the machines were asked to start again: the start of the wait that follows. */
  since: string;
}

/**
 * The pause's compensation. Nothing may stay half stopped unknown to the
 * table: the machines already stopped are asked to start again, and the
 * cluster goes RESUMING, the workflow then waiting for it as a resume does
 * (READY again, or stopped again and PAUSED). A machine gone, or a start
 * the provider refuses, is FAILED with the reason.
 */
export async function recordPauseFailed(
  input: RecordPauseFailedInput,
  deps: PauseStepDeps,
): Promise<RecordPauseFailedOutput> {
  const failure = { step: input.failedStep, ...describeCaughtError(input.error) };
  const now = deps.clock.now();
  const since = now.toISOString();
  const cluster = await loadCluster(deps.store, input.clusterId);
  // A retry of a compensation that already recorded the outcome.
  if (cluster.state !== 'PAUSING') {
    return {
      state: cluster.state === 'RESUMING' || cluster.state === 'READY' ? cluster.state : 'FAILED',
      since,
    };
  }

  const failed = `pause failed at ${input.failedStep}: ${failure.message}`;
  const machines = await deps.provider.describe((cluster.instances ?? []).map((instance) => instance.id));
  const lost = machines.filter((machine) => machine.state === 'terminated');
  // Those still stopping are started by the check that follows, once stopped.
  const stopped = machines.filter((machine) => machine.state === 'stopped').map((machine) => machine.id);
  const refused =
    lost.length > 0 || stopped.length === 0 ? undefined : await refusalOf(deps.provider.start(stopped));
  if (lost.length > 0 || refused !== undefined) {
    await recordCannotMoveBack(
      cluster,
      'PAUSING',
      failure,
      { lost, refused, refusedWhat: 'the stopped instances could not be started again' },
      deps.store,
    );
    return { state: 'FAILED', since };
  }
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['PAUSING'],
    to: 'RESUMING',
    changes: {
      failure,
      deadline: resumeDeadline(now, cluster.plan),
      workersJoined: 0,
      dashboardAnsweredAt: undefined,
    },
    event: {
      step: input.failedStep,
      message:
        stopped.length === 0
          ? `${failed}; no instance had stopped yet: waiting until the cluster is ready again`
          : `${failed}; starting the ${stopped.length} stopped instance${stopped.length === 1 ? '' : 's'} again`,
    },
  });
  return { state: 'RESUMING', since };
}

export function secondsSince(iso: string, clock: Clock): number {
  return Math.round((clock.now().getTime() - Date.parse(iso)) / 100) / 10;
}
