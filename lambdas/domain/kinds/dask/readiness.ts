/**
 * When a Dask cluster is ready: the scheduler's dashboard answers `/health`
 * with `ok`, the wanted workers are listed in `/json/identity.json`, and a
 * notebook's Jupyter server answers `GET /api/status` with the cluster's
 * token (without it, Jupyter answers 403: a server that started with
 * another token is not ready). All of it exists in distributed 2022.12.1
 * without bokeh, and in jupyter_server 1.23 and 2.
 */
import type { Cluster } from '../../../../schemas/types.generated.ts';
import type { HttpAnswer, ProbeRequest, SecretKey } from '../../ports.ts';
import type { Network, ReadinessVerdict } from '../kind.ts';
import { DASK_SECRETS } from './bootstrap.ts';
import { daskUrls } from './endpoints.ts';

/** The secrets the probe presents: the notebook's token, when the cluster has a notebook. */
export function daskReadinessSecrets(cluster: Cluster): SecretKey[] {
  return rolesOf(cluster).has('notebook') ? [DASK_SECRETS.jupyterToken] : [];
}

export function daskReadinessChecks(
  cluster: Cluster,
  network: Network,
  secrets: Readonly<Record<SecretKey, string>> = {},
): Record<string, ProbeRequest> {
  const { dashboardUrl, notebookUrl } = daskUrls(cluster.instances ?? [], network);
  if (!dashboardUrl && !notebookUrl) throw new Error(`cluster ${cluster.name} has nothing to probe yet`);
  const token = secrets[DASK_SECRETS.jupyterToken];
  return {
    ...(dashboardUrl
      ? { health: `${dashboardUrl}/health`, identity: `${dashboardUrl}/json/identity.json` }
      : {}),
    ...(notebookUrl
      ? {
          notebook:
            token === undefined
              ? `${notebookUrl}/api/status`
              : { url: `${notebookUrl}/api/status`, headers: { Authorization: `token ${token}` } },
        }
      : {}),
  };
}

export function judgeDaskReadiness(
  cluster: Cluster,
  answers: Readonly<Record<string, HttpAnswer | undefined>>,
): ReadinessVerdict {
  const wantedWorkers = cluster.plan.wantedWorkers;
  const dashboardUp = answers.health?.status === 200 && answers.health.body.trim() === 'ok';
  const workersJoined =
    dashboardUp && answers.identity?.status === 200 ? countWorkers(answers.identity.body) : 0;
  const roles = rolesOf(cluster);
  const hasScheduler = roles.has('scheduler');
  const notebookUp = !roles.has('notebook') || jupyterAnswered(answers.notebook);
  const missing =
    hasScheduler && !dashboardUp
      ? 'the Dask dashboard did not answer'
      : workersJoined < wantedWorkers
        ? `only ${workersJoined}/${wantedWorkers} Dask workers joined`
        : !notebookUp
          ? answers.notebook?.status === 403
            ? "the notebook (Jupyter) refused the cluster's token"
            : 'the notebook (Jupyter) did not answer'
          : undefined;
  return {
    ready: missing === undefined,
    dashboardUp,
    workersJoined,
    wantedWorkers,
    ...(missing ? { missing } : {}),
  };
}

/** What the plan asks for, and whatever was launched. */
function rolesOf(cluster: Cluster): Set<string> {
  return new Set([
    ...(cluster.plan.roles ?? []).map((role) => role.role),
    ...(cluster.instances ?? []).map((instance) => instance.role),
  ]);
}

/** `/api/status` answered, with the token: `{"started": "…", "last_activity": "…", "kernels": 0, …}`. */
function jupyterAnswered(answer: HttpAnswer | undefined): boolean {
  if (answer?.status !== 200) return false;
  try {
    return typeof (JSON.parse(answer.body) as { started?: unknown }).started === 'string';
  } catch {
    return false;
  }
}

function countWorkers(body: string): number {
  try {
    const identity: unknown = JSON.parse(body);
    if (typeof identity !== 'object' || identity === null) return 0;
    const workers = (identity as { workers?: unknown }).workers;
    return typeof workers === 'object' && workers !== null ? Object.keys(workers).length : 0;
  } catch {
    return 0;
  }
}
