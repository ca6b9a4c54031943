/**
 * The resume workflow's steps: ask every machine to start, record READY
 * once the check and the probe saw the cluster ready on its new addresses,
 * and the compensation: a resume that fails stops the machines again.
 */
import { everyInstanceIn } from '../machines.ts';
import type { Clock, ClusterStore, MachineProvider } from '../ports.ts';
import { type CaughtError, describeCaughtError } from './failure.ts';
import { loadCluster, urlsToLook } from './load-cluster.ts';
import { moveEveryMachine, recordCannotMoveBack, refusalOf } from './machine-moves.ts';
import { secondsSince } from './pause-steps.ts';

export interface ResumeStepDeps {
  store: ClusterStore;
  provider: MachineProvider;
  clock: Clock;
}

export interface StartMachinesInput {
  clusterId: string;
}

/**
 * Asks for every recorded machine to start. CheckRunning then looks until
 * they run (asking again for any still stopped), recording the addresses
 * they have now: EC2 gives a started instance a new public address.
 */
export async function startMachines(
  input: StartMachinesInput,
  deps: Pick<ResumeStepDeps, 'store' | 'provider'>,
): Promise<{ starting: number }> {
  return { starting: await moveEveryMachine('start', input.clusterId, deps) };
}

export interface RecordResumedInput {
  clusterId: string;
  /** When the machines were asked to start. */
  requestedAt: string;
}

/** RESUMING → READY. A retry of a step that already succeeded answers READY again. */
export async function recordResumed(
  input: RecordResumedInput,
  deps: Pick<ResumeStepDeps, 'store' | 'clock'>,
): Promise<{ state: 'READY'; seconds: number }> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const seconds = secondsSince(input.requestedAt, deps.clock);
  if (cluster.state === 'READY') return { state: 'READY', seconds };
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['RESUMING'],
    to: 'READY',
    event: {
      step: 'record-resumed',
      message: `resumed in ${seconds.toFixed(1)} s: ${urlsToLook(cluster)}`,
    },
  });
  return { state: 'READY', seconds };
}

export interface RecordResumeFailedInput {
  clusterId: string;
  failedStep: string;
  error?: CaughtError;
}

/**
 * The resume's compensation: nothing may run unknown to the table. Every
 * machine is asked to stop again and the cluster is PAUSED, with the step
 * and the reason; when one is gone, or the provider refuses to stop them,
 * FAILED with the reason (destroying it removes what is left).
 */
export async function recordResumeFailed(
  input: RecordResumeFailedInput,
  deps: Pick<ResumeStepDeps, 'store' | 'provider'>,
): Promise<{ state: 'PAUSED' | 'FAILED' | 'READY' }> {
  const failure = { step: input.failedStep, ...describeCaughtError(input.error) };
  const cluster = await loadCluster(deps.store, input.clusterId);
  // A retry of a compensation that already recorded the outcome.
  if (cluster.state !== 'RESUMING') {
    return { state: cluster.state === 'PAUSED' || cluster.state === 'READY' ? cluster.state : 'FAILED' };
  }

  const failed = `resume failed at ${input.failedStep}: ${failure.message}`;
  const machines = await deps.provider.describe((cluster.instances ?? []).map((instance) => instance.id));
  const lost = machines.filter((machine) => machine.state === 'terminated');
  const refused = await refusalOf(
    deps.provider.stop(
      machines.filter((machine) => machine.state !== 'terminated').map((machine) => machine.id),
    ),
  );
  if (lost.length > 0 || refused !== undefined) {
    await recordCannotMoveBack(
      cluster,
      'RESUMING',
      failure,
      { lost, refused, refusedWhat: 'the instances could not be stopped again' },
      deps.store,
    );
    return { state: 'FAILED' };
  }
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['RESUMING'],
    to: 'PAUSED',
    changes: {
      failure,
      // Asked to stop, and accepted: stopped, or about to be.
      roleInstances: everyInstanceIn(cluster.instances ?? [], 'stopped'),
      workersJoined: 0,
      dashboardAnsweredAt: undefined,
    },
    event: {
      step: input.failedStep,
      message: `${failed}; the instances were stopped again: PAUSED (\`bilbo resume ${cluster.name}\` tries again)`,
    },
  });
  return { state: 'PAUSED' };
}
