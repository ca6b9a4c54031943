import type { Cluster } from '../../../schemas/types.generated.ts';
import { deadlineOf } from '../deadlines.ts';
import { ReadyTimeoutError } from '../errors.ts';
import { kindOf } from '../kinds/index.ts';
import { type Network, networkForPeople, type ReadinessVerdict } from '../kinds/kind.ts';
import type { Clock, ClusterStore, ReadinessProbe, SecretReader } from '../ports.ts';
import { loadCluster } from './load-cluster.ts';
import { readinessChecksOf } from './readiness-checks.ts';

export interface ProbeReadyInput {
  clusterId: string;
}

export interface ProbeReadyOutput {
  ready: boolean;
  dashboardUp: boolean;
  workersJoined: number;
  wantedWorkers: number;
}

export interface ProbeSettings {
  /** How long one invocation keeps polling before it hands back to the workflow. */
  budgetMs: number;
  /** Time between two looks at the cluster. */
  intervalMs: number;
  /**
   * Where the probe looks from: inside the cluster's network (the deployed
   * probe, in the VPC), or from outside, as people do (local mode).
   */
  network: Network;
}

export interface ProbeReadyDeps {
  store: ClusterStore;
  probe: ReadinessProbe;
  /** Where the secrets the checks present (a notebook's token) are read. */
  secrets: SecretReader;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  settings: ProbeSettings;
}

/**
 * Looks at the cluster (what its kind says to look at, and how to judge
 * it) for up to one budget, so detection is one interval behind the
 * cluster while the workflow makes one state transition per budget, not
 * one per look. Progress (dashboard up, n/m workers joined) goes to the
 * event log as it changes. Past the profile's ready_timeout the create
 * fails. The probe needs no machine provider: the workflow checks the
 * machines between two budgets, so on AWS the probe runs in the VPC with
 * HTTP access alone.
 */
export async function probeReady(input: ProbeReadyInput, deps: ProbeReadyDeps): Promise<ProbeReadyOutput> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const kind = kindOf(cluster.plan.kind);
  const checks = await readinessChecksOf(cluster, probeNetworkOf(deps.settings, cluster.plan), deps.secrets);
  const deadline = deadlineOf(cluster);
  const budgetEnd = deps.clock.now().getTime() + deps.settings.budgetMs;

  let recorded: Progress = {
    workersJoined: cluster.workersJoined ?? 0,
    dashboardAnswered: cluster.dashboardAnsweredAt !== undefined,
  };
  for (;;) {
    const verdict = kind.judgeReadiness(cluster, await deps.probe.look(checks));
    recorded = await recordProgress(cluster, recorded, verdict, deps);
    const now = deps.clock.now().getTime();
    if (!verdict.ready && now >= deadline) throw timeoutError(cluster.plan.readyTimeoutSeconds, verdict);
    if (verdict.ready || now >= budgetEnd) {
      const { ready, dashboardUp, workersJoined, wantedWorkers } = verdict;
      return { ready, dashboardUp, workersJoined, wantedWorkers };
    }
    await deps.sleep(deps.settings.intervalMs);
  }
}

/** The addresses the probe looks at: private ones from inside the network, else those people use. */
export function probeNetworkOf(settings: Pick<ProbeSettings, 'network'>, plan: Cluster['plan']): Network {
  return settings.network === 'private' ? 'private' : networkForPeople(plan);
}

/** What the record says of the readiness so far: the probe's own writes are the only ones that change it. */
interface Progress {
  workersJoined: number;
  dashboardAnswered: boolean;
}

async function recordProgress(
  cluster: Cluster,
  recorded: Progress,
  seen: ReadinessVerdict,
  deps: ProbeReadyDeps,
): Promise<Progress> {
  const firstAnswer = seen.dashboardUp && !recorded.dashboardAnswered;
  if (!firstAnswer && seen.workersJoined === recorded.workersJoined) return recorded;

  const joined = `${seen.workersJoined}/${seen.wantedWorkers} workers joined`;
  const message = firstAnswer ? `dashboard answering at ${cluster.dashboardUrl}; ${joined}` : joined;
  await deps.store.update(cluster.id, {
    changes: {
      workersJoined: seen.workersJoined,
      ...(firstAnswer ? { dashboardAnsweredAt: deps.clock.now().toISOString() } : {}),
    },
    event: { step: 'probe-ready', message },
  });
  return { workersJoined: seen.workersJoined, dashboardAnswered: recorded.dashboardAnswered || firstAnswer };
}

function timeoutError(timeoutSeconds: number, seen: ReadinessVerdict): ReadyTimeoutError {
  return new ReadyTimeoutError(
    `${seen.missing ?? 'the cluster was not ready'} within ready_timeout (${timeoutSeconds} s); raise ready_timeout in the profile if the machines need longer to boot`,
  );
}
