import Table from 'cli-table3';
import pc from 'picocolors';
import { isEnded } from '../lambdas/domain/lifecycle.ts';
import type { Cluster, ClusterState } from '../schemas/types.generated.ts';

export type Colors = ReturnType<typeof pc.createColors>;

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A borderless, left-aligned table like `kubectl get`, headers in bold when coloured. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  c: Colors,
): string {
  const table = new Table({
    head: headers.map((h) => c.bold(h)),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) table.push([...row]);
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}

/** `name    value` lines, the names padded to one width; undefined values are left out. */
export function renderFields(fields: readonly [string, string | undefined][], c: Colors): string {
  const shown = fields.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
  const width = Math.max(0, ...shown.map(([name]) => name.length));
  return shown.map(([name, value]) => `${c.bold(name.padEnd(width))}  ${value}\n`).join('');
}

/** A short age like `42s`, `5m`, `3h`, `2d`. */
export function formatAge(fromIso: string, nowMs: number): string {
  const seconds = Math.max(0, Math.floor((nowMs - Date.parse(fromIso)) / 1000));
  if (Number.isNaN(seconds)) return '-';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** Seconds with one decimal: `3.2s`. */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

export function colorState(state: ClusterState, c: Colors): string {
  switch (state) {
    case 'READY':
      return c.green(state);
    case 'FAILED':
      return c.red(state);
    case 'DESTROYED':
      return c.dim(state);
    default:
      return c.yellow(state);
  }
}

/** The state, and for a READY cluster that lost part of itself, `READY (degraded)`. */
export function stateColumn(cluster: Cluster, c: Colors): string {
  return isDegraded(cluster) ? c.yellow(`${cluster.state} (degraded)`) : colorState(cluster.state, c);
}

/** A READY cluster whose last health look found something missing. */
export function isDegraded(cluster: Cluster): boolean {
  return cluster.state === 'READY' && cluster.health?.status === 'degraded';
}

/** What a degraded cluster lacks, in words; undefined for any other. */
export function degradedReason(cluster: Cluster): string | undefined {
  return isDegraded(cluster) ? (cluster.health?.reason ?? 'degraded') : undefined;
}

/** The worker processes the cluster runs (or, failing that, must have joined). */
export function wantedWorkers(cluster: Cluster): number {
  return cluster.plan?.totalWorkers ?? cluster.plan?.wantedWorkers ?? 0;
}

/** `joined/wanted`, e.g. `3/4`; `-` for an ended cluster, which runs none. */
export function workersColumn(cluster: Cluster): string {
  return isEnded(cluster.state) ? '-' : `${cluster.workersJoined ?? 0}/${wantedWorkers(cluster)}`;
}

/** `recorded/planned` instances, e.g. `3/3`, `1/3` while the members launch; `-` for an ended cluster. */
export function instancesColumn(cluster: Cluster): string {
  if (isEnded(cluster.state)) return '-';
  const planned = (cluster.plan?.roles ?? []).reduce((sum, role) => sum + role.count, 0);
  return `${cluster.instances?.length ?? 0}/${planned}`;
}

/** Why a PAUSING or PAUSED cluster was paused: who asked, or the reaper's reason. Undefined otherwise. */
export function pauseReason(cluster: Cluster): string | undefined {
  return cluster.state === 'PAUSING' || cluster.state === 'PAUSED' ? cluster.pauseReason : undefined;
}

/**
 * Why an ended cluster ended: the destroy's requester (or bilbo's reason),
 * else the failure's step and message. Undefined while it lives.
 */
export function endReason(cluster: Cluster): string | undefined {
  if (!isEnded(cluster.state)) return undefined;
  if (cluster.state === 'DESTROYED' && cluster.destroyReason) return cluster.destroyReason;
  if (cluster.failure) return `failed at ${cluster.failure.step}: ${cluster.failure.message}`;
  return cluster.destroyReason ?? (cluster.state === 'DESTROYED' ? 'destroyed' : 'failed');
}

/** At most `width` characters, the cut marked with `…`. */
export function shorten(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}
