/**
 * The benchmark's own observers, independent of the workflow's readiness
 * probe: one watches the store for the first launched instance, one asks
 * the Dask dashboard directly, one polls the API as a client would.
 */
import type { BilboApi } from '../../cli/api/client.ts';
import type { ClusterStore } from '../../lambdas/domain/ports.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { now, pollUntil, type Seen } from './timing.ts';

export const STORE_POLL_MS = 10;
export const DASHBOARD_POLL_MS = 10;
export const CLIENT_POLL_MS = 20;
const DASHBOARD_REQUEST_TIMEOUT_MS = 1_000;

/** The first record (read straight from the store) that lists instances and the dashboard URL. */
export function watchLaunch(
  store: ClusterStore,
  name: string,
  signal: AbortSignal,
): Promise<Seen<Cluster & { dashboardUrl: string }>> {
  return pollUntil(
    async () => {
      const cluster = await store.findByName(name);
      if (!cluster?.dashboardUrl || (cluster.instances ?? []).length === 0) return undefined;
      return { ...cluster, dashboardUrl: cluster.dashboardUrl };
    },
    STORE_POLL_MS,
    signal,
  );
}

export interface DashboardReady {
  /** When /health first answered 200 ok. */
  healthAt: number;
  /** When /health was ok and identity.json listed the wanted workers. */
  readyAt: number;
  workers: number;
}

/** Polls the scheduler's dashboard until it is healthy with at least `wantedWorkers` workers. */
export async function watchDashboard(
  dashboardUrl: string,
  wantedWorkers: number,
  signal: AbortSignal,
): Promise<DashboardReady> {
  const base = dashboardUrl.replace(/\/+$/, '');
  let healthAt: number | undefined;
  const seen = await pollUntil(
    async () => {
      const health = await fetchText(`${base}/health`, signal);
      if (health?.status !== 200 || health.body.trim() !== 'ok') return undefined;
      healthAt ??= now();
      const identity = await fetchText(`${base}/json/identity.json`, signal);
      const workers = identity?.status === 200 ? countWorkers(identity.body) : 0;
      return workers >= wantedWorkers ? workers : undefined;
    },
    DASHBOARD_POLL_MS,
    signal,
  );
  return { healthAt: healthAt ?? seen.at, readyAt: seen.at, workers: seen.value };
}

/** Polls GET /clusters/{name} until the cluster is in `state`; any ended state other than that throws. */
export function watchClient(
  api: BilboApi,
  name: string,
  state: 'READY' | 'DESTROYED',
  signal: AbortSignal,
): Promise<Seen<Cluster>> {
  return pollUntil(
    async () => {
      const cluster = await api.getCluster(name);
      if (cluster.state === state) return cluster;
      if (cluster.state === 'FAILED' || cluster.state === 'DESTROYED') {
        const reason = cluster.failure ? `: ${cluster.failure.step}: ${cluster.failure.message}` : '';
        throw new Error(`cluster ${name} ended ${cluster.state} while waiting for ${state}${reason}`);
      }
      return undefined;
    },
    CLIENT_POLL_MS,
    signal,
  );
}

async function fetchText(
  url: string,
  signal: AbortSignal,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(url, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(DASHBOARD_REQUEST_TIMEOUT_MS)]),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    // Not listening yet (or timed out): the next look tries again.
    return undefined;
  }
}

function countWorkers(body: string): number {
  try {
    const identity = JSON.parse(body) as { workers?: unknown };
    return typeof identity.workers === 'object' && identity.workers !== null
      ? Object.keys(identity.workers).length
      : 0;
  } catch {
    return 0;
  }
}
