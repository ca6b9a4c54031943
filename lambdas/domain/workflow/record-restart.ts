import { kindOf } from '../kinds/index.ts';
import type { Clock, ClusterStore, ReadinessProbe, SecretReader } from '../ports.ts';
import { type CaughtError, describeCaughtError } from './failure.ts';
import { loadCluster, urlsToLook } from './load-cluster.ts';
import { type ProbeSettings, probeNetworkOf } from './probe-ready.ts';
import { readinessChecksOf } from './readiness-checks.ts';

export interface RecordRestartedInput {
  clusterId: string;
  requestedAt: string;
}

/** RESTARTING → READY. A retry of a step that already succeeded answers READY again. */
export async function recordRestarted(
  input: RecordRestartedInput,
  deps: { store: ClusterStore; clock: Clock },
): Promise<{ state: 'READY'; seconds: number }> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const seconds = Math.round((deps.clock.now().getTime() - Date.parse(input.requestedAt)) / 100) / 10;
  if (cluster.state === 'READY') return { state: 'READY', seconds };
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['RESTARTING'],
    to: 'READY',
    event: {
      step: 'record-restarted',
      message: `restarted in ${seconds.toFixed(1)} s: ${urlsToLook(cluster)}`,
    },
  });
  return { state: 'READY', seconds };
}

export interface RecordRestartFailedInput {
  clusterId: string;
  failedStep: string;
  error?: CaughtError;
}

export interface RecordRestartFailedDeps {
  store: ClusterStore;
  probe: ReadinessProbe;
  secrets: SecretReader;
  settings: Pick<ProbeSettings, 'network'>;
}

/**
 * The restart's compensation. A failed restart may still have brought the
 * services back (a step failed after it did its work): one look decides.
 * Ready: READY again, the failure told in the events. Otherwise FAILED with
 * the step and the reason; the instances keep running until destroyed.
 */
export async function recordRestartFailed(
  input: RecordRestartFailedInput,
  deps: RecordRestartFailedDeps,
): Promise<{ state: 'READY' | 'FAILED' }> {
  const failure = { step: input.failedStep, ...describeCaughtError(input.error) };
  const cluster = await loadCluster(deps.store, input.clusterId);
  // A retry of a compensation that already recorded the outcome.
  if (cluster.state !== 'RESTARTING') return { state: cluster.state === 'READY' ? 'READY' : 'FAILED' };

  const kind = kindOf(cluster.plan.kind);
  const checks = await readinessChecksOf(cluster, probeNetworkOf(deps.settings, cluster.plan), deps.secrets);
  const answers = await deps.probe.look(checks).catch(() => ({}));
  const verdict = kind.judgeReadiness(cluster, answers);
  const failed = `restart failed at ${input.failedStep}: ${failure.message}`;
  if (verdict.ready) {
    await deps.store.transition(cluster.id, {
      name: cluster.name,
      from: ['RESTARTING'],
      to: 'READY',
      changes: { workersJoined: verdict.workersJoined },
      event: {
        step: input.failedStep,
        message: `${failed}; the services answer again (${verdict.workersJoined}/${verdict.wantedWorkers} workers joined): READY`,
      },
    });
    return { state: 'READY' };
  }
  await deps.store.transition(cluster.id, {
    name: cluster.name,
    from: ['RESTARTING'],
    to: 'FAILED',
    changes: { failure },
    event: {
      step: input.failedStep,
      message: `${failed}; ${verdict.missing ?? 'the cluster is not ready'}: destroy it to remove its instances`,
    },
  });
  return { state: 'FAILED' };
}
