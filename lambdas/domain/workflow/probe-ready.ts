import type { Cluster } from '../../../schemas/types.generated.ts';
import { ReadyTimeoutError } from '../errors.ts';
import { dashboardUrlOf } from '../kinds/dask/processes.ts';
import { DASK_PORTS } from '../kinds/dask/user-data.ts';
import type { Clock, ClusterStore, ReadinessObservation, ReadinessProbe } from '../ports.ts';
import { loadCluster, updateLatest } from './record-updates.ts';

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
  /** Time between two looks at the dashboard. */
  intervalMs: number;
  /** Which of the scheduler's dashboard addresses to look at: inside the cluster's network, or the public one. */
  network: 'private' | 'public';
}

export interface ProbeReadyDeps {
  store: ClusterStore;
  probe: ReadinessProbe;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  settings: ProbeSettings;
}

/**
 * Polls the Dask dashboard (its /health, then the joined workers) for up
 * to one budget, so detection is one interval behind the cluster while the
 * workflow makes one state transition per budget, not one per look.
 * Progress (dashboard up, n/m workers joined) goes to the event log as it
 * changes. Past the profile's ready_timeout the create fails. The probe
 * needs no machine provider: the workflow checks the machines between two
 * budgets, so on AWS the probe runs in the VPC with HTTP access alone.
 */
export async function probeReady(input: ProbeReadyInput, deps: ProbeReadyDeps): Promise<ProbeReadyOutput> {
  let cluster = await loadCluster(deps.store, input.clusterId);
  const dashboardUrl =
    deps.settings.network === 'private' ? cluster.privateDashboardUrl : cluster.dashboardUrl;
  if (!dashboardUrl) throw new Error(`cluster ${cluster.name} has no dashboard URL yet`);
  const wanted = cluster.plan.wantedWorkers;
  const deadline = Date.parse(cluster.createdAt) + cluster.plan.readyTimeoutSeconds * 1000;
  const budgetEnd = deps.clock.now().getTime() + deps.settings.budgetMs;
  const notebookUrl = notebookUrlOf(cluster, deps.settings.network);
  const target = { dashboardUrl, wantedWorkers: wanted, ...(notebookUrl ? { notebookUrl } : {}) };

  for (;;) {
    const seen = await deps.probe.observe(target);
    cluster = await recordProgress(cluster, seen, deps);
    const ready =
      seen.dashboardUp && seen.workersJoined >= wanted && (!notebookUrl || seen.notebookUp === true);
    const now = deps.clock.now().getTime();
    if (!ready && now >= deadline) throw timeoutError(cluster.plan.readyTimeoutSeconds, seen, wanted);
    if (ready || now >= budgetEnd) {
      return {
        ready,
        dashboardUp: seen.dashboardUp,
        workersJoined: seen.workersJoined,
        wantedWorkers: wanted,
      };
    }
    await deps.sleep(deps.settings.intervalMs);
  }
}

/** The notebook's Jupyter server, as the probe sees it, when the cluster has one. */
function notebookUrlOf(cluster: Cluster, network: ProbeSettings['network']): string | undefined {
  const notebook = cluster.instances?.find((instance) => instance.role === 'notebook');
  if (!notebook) return undefined;
  if (network === 'public' && cluster.notebookUrl) return cluster.notebookUrl;
  return dashboardUrlOf(notebook.privateIp ?? '', notebook.ports?.notebook ?? DASK_PORTS.notebook);
}

async function recordProgress(
  cluster: Cluster,
  seen: ReadinessObservation,
  deps: ProbeReadyDeps,
): Promise<Cluster> {
  const wanted = cluster.plan.wantedWorkers;
  const firstAnswer = seen.dashboardUp && !cluster.dashboardAnsweredAt;
  const joinedChanged = seen.workersJoined !== (cluster.workersJoined ?? 0);
  if (!firstAnswer && !joinedChanged) return cluster;

  const at = deps.clock.now().toISOString();
  const message = firstAnswer
    ? `dashboard answering at ${cluster.dashboardUrl}; ${seen.workersJoined}/${wanted} workers joined`
    : `${seen.workersJoined}/${wanted} workers joined`;
  return updateLatest(
    deps.store,
    cluster.id,
    (latest) => ({
      workersJoined: seen.workersJoined,
      ...(firstAnswer && !latest.dashboardAnsweredAt ? { dashboardAnsweredAt: at } : {}),
    }),
    { step: 'probe-ready', message },
  );
}

function timeoutError(timeoutSeconds: number, seen: ReadinessObservation, wanted: number): ReadyTimeoutError {
  const what = !seen.dashboardUp
    ? 'the Dask dashboard did not answer'
    : seen.workersJoined < wanted
      ? `only ${seen.workersJoined}/${wanted} Dask workers joined`
      : 'the notebook (Jupyter) did not answer';
  return new ReadyTimeoutError(
    `${what} within ready_timeout (${timeoutSeconds} s); raise ready_timeout in the profile if the machines need longer to boot`,
  );
}
