/**
 * When a Dask cluster is ready: the scheduler's dashboard answers `/health`
 * with `ok`, the wanted workers are listed in `/json/identity.json`, and a
 * notebook's Jupyter server answers `GET /api` with its version (without a
 * token). All of it exists in distributed 2022.12.1 without bokeh.
 */
import type { Cluster } from '../../../../schemas/types.generated.ts';
import type { HttpAnswer } from '../../ports.ts';
import type { Network, ReadinessVerdict } from '../kind.ts';
import { daskUrls } from './endpoints.ts';

export function daskReadinessChecks(cluster: Cluster, network: Network): Record<string, string> {
  const { dashboardUrl, notebookUrl } = daskUrls(cluster.instances ?? [], network);
  if (!dashboardUrl && !notebookUrl) throw new Error(`cluster ${cluster.name} has nothing to probe yet`);
  return {
    ...(dashboardUrl
      ? { health: `${dashboardUrl}/health`, identity: `${dashboardUrl}/json/identity.json` }
      : {}),
    ...(notebookUrl ? { notebook: `${notebookUrl}/api` } : {}),
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
  // What the plan asks for, and whatever was launched.
  const roles = new Set([
    ...(cluster.plan.roles ?? []).map((role) => role.role),
    ...(cluster.instances ?? []).map((instance) => instance.role),
  ]);
  const hasScheduler = roles.has('scheduler');
  const notebookUp = !roles.has('notebook') || jupyterAnswered(answers.notebook);
  const missing =
    hasScheduler && !dashboardUp
      ? 'the Dask dashboard did not answer'
      : workersJoined < wantedWorkers
        ? `only ${workersJoined}/${wantedWorkers} Dask workers joined`
        : !notebookUp
          ? 'the notebook (Jupyter) did not answer'
          : undefined;
  return {
    ready: missing === undefined,
    dashboardUp,
    workersJoined,
    wantedWorkers,
    ...(missing ? { missing } : {}),
  };
}

function jupyterAnswered(answer: HttpAnswer | undefined): boolean {
  if (answer?.status !== 200) return false;
  try {
    return typeof (JSON.parse(answer.body) as { version?: unknown }).version === 'string';
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
