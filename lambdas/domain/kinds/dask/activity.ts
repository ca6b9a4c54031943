/**
 * Whether a Dask cluster is in use, for the reaper, from what its services
 * serve over HTTP in distributed 2022.12.1 without bokeh and in
 * jupyter_server 1.23 and 2:
 *
 * - the scheduler's dashboard serves `/metrics` (Prometheus text):
 *   `dask_scheduler_tasks{state="processing"}` (and waiting, queued,
 *   no-worker) is work in progress, `dask_scheduler_clients` the Dask
 *   clients connected (bilbo's own probe speaks HTTP, so it is never one),
 *   and the sum of `dask_scheduler_prefix_state_totals_total` only grows
 *   with each task transition: a sum unlike the last look's means tasks
 *   moved in between;
 * - a notebook's Jupyter answers `/api/status` (its `last_activity`) and
 *   `/api/kernels` (each kernel's `execution_state`), with the token. Only
 *   a kernel Jupyter says is idle (or dead) is idle: jupyter_server 1.23
 *   sometimes never learns a new kernel's state and says "starting" for
 *   good while the kernel runs cells, so any other state is in use. A GET
 *   of `/api/kernels` is activity to Jupyter (it moves `last_activity`),
 *   `/api/status` is not: so status is read first, the kernels next, and
 *   status again, whose `last_activity` the next look compares with.
 */
import type { Cluster } from '../../../../schemas/types.generated.ts';
import type { HttpAnswer, ProbeRequest, SecretKey } from '../../ports.ts';
import type { ActivityLook, ActivityVerdict, Network } from '../kind.ts';
import { DASK_SECRETS } from './bootstrap.ts';
import { daskUrls } from './endpoints.ts';

/** Task states that mean work is in progress or about to be. */
const BUSY_TASK_STATES = ['processing', 'waiting', 'queued', 'no-worker'];
/** The kernel states in which a notebook kernel runs nothing. */
const IDLE_KERNEL_STATES = ['idle', 'dead'];

export function daskActivityChecks(
  cluster: Cluster,
  network: Network,
  secrets: Readonly<Record<SecretKey, string>> = {},
): Array<Record<string, ProbeRequest>> {
  const { dashboardUrl, notebookUrl } = daskUrls(cluster.instances ?? [], network);
  if (!dashboardUrl && !notebookUrl) throw new Error(`cluster ${cluster.name} has nothing to look at`);
  const token = secrets[DASK_SECRETS.jupyterToken];
  const jupyter = (path: string): ProbeRequest =>
    token === undefined
      ? `${notebookUrl}${path}`
      : { url: `${notebookUrl}${path}`, headers: { Authorization: `token ${token}` } };
  const metrics: Record<string, ProbeRequest> = dashboardUrl ? { metrics: `${dashboardUrl}/metrics` } : {};
  if (!notebookUrl) return [metrics];
  return [
    { ...metrics, status: jupyter('/api/status') },
    { kernels: jupyter('/api/kernels') },
    { statusAfter: jupyter('/api/status') },
  ];
}

export function judgeDaskActivity(
  cluster: Cluster,
  answers: Readonly<Record<string, HttpAnswer | undefined>>,
  look: ActivityLook,
): ActivityVerdict {
  const roles = new Set((cluster.instances ?? []).map((instance) => instance.role));
  const last = marksOf(look.lastMark);
  const marks: string[] = [];
  if (roles.has('scheduler')) {
    const metrics = answers.metrics?.status === 200 ? parseMetrics(answers.metrics.body) : undefined;
    const clients = metrics?.get('dask_scheduler_clients');
    if (!metrics || clients === undefined)
      return { state: 'unknown', why: 'the Dask dashboard did not answer' };
    const busy = BUSY_TASK_STATES.reduce(
      (sum, state) => sum + (metrics.get(`dask_scheduler_tasks{state="${state}"}`) ?? 0),
      0,
    );
    if (busy > 0) return { state: 'active', why: `${busy} Dask tasks in progress` };
    if (clients > 0 && !look.ignoreClients)
      return { state: 'active', why: `${clients} Dask clients connected` };
    let transitions = 0;
    for (const [series, value] of metrics) {
      if (series.startsWith('dask_scheduler_prefix_state_totals_total{')) transitions += value;
    }
    marks.push(`dask=${transitions}`);
    if (last.dask !== undefined && last.dask !== String(transitions)) {
      return { state: 'active', why: 'Dask tasks ran since the last look', mark: marks.join(' ') };
    }
  }
  if (roles.has('notebook')) {
    const before = lastActivityOf(answers.status);
    const after = lastActivityOf(answers.statusAfter);
    const kernels = jsonOf(answers.kernels);
    if (before === undefined || after === undefined || !Array.isArray(kernels)) {
      return { state: 'unknown', why: 'the notebook (Jupyter) did not answer' };
    }
    marks.push(`jupyter=${after}`);
    const mark = marks.join(' ');
    const inUse = kernels
      .map((kernel) => String((kernel as { execution_state?: unknown } | null)?.execution_state ?? 'unknown'))
      .filter((state) => !IDLE_KERNEL_STATES.includes(state));
    if (inUse.length > 0) {
      const states = [...new Set(inUse)].join(' or ');
      return { state: 'active', why: `${inUse.length} notebook kernels ${states}`, mark };
    }
    if (last.jupyter !== undefined && before !== last.jupyter) {
      return { state: 'active', why: 'the notebook was used since the last look', mark };
    }
  }
  return { state: 'idle', why: 'no Dask task, client or notebook activity', mark: marks.join(' ') };
}

/** The last look's mark, by part: `dask=<transitions> jupyter=<last_activity>`. */
function marksOf(mark: string | undefined): { dask?: string; jupyter?: string } {
  const parts: Record<string, string> = {};
  for (const part of (mark ?? '').split(' ')) {
    const at = part.indexOf('=');
    if (at > 0) parts[part.slice(0, at)] = part.slice(at + 1);
  }
  return parts;
}

function lastActivityOf(answer: HttpAnswer | undefined): string | undefined {
  const status = jsonOf(answer) as { last_activity?: unknown } | undefined;
  return typeof status?.last_activity === 'string' ? status.last_activity : undefined;
}

/** Prometheus text: each sample's series (name and labels, as written) and value. */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (!Number.isNaN(value)) samples.set(match[1]!, value);
  }
  return samples;
}

function jsonOf(answer: HttpAnswer | undefined): unknown {
  if (answer?.status !== 200) return undefined;
  try {
    return JSON.parse(answer.body);
  } catch {
    return undefined;
  }
}
