/**
 * Which processes this benchmark run started. Every child inherits a
 * marker variable set in this process's environment before anything is
 * spawned (the local provider and DynamoDB Local both pass the environment
 * on), so a process is ours when it is new since the start and carries the
 * marker — other sessions' Dask or DynamoDB Local processes on the same
 * machine are told apart and only counted, never touched.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcStat } from '../../lambdas/adapters/local/processes.ts';

export type ProcessKind = 'dask' | 'dynamodb-local' | 'other';

export interface ProcessInfo {
  pid: number;
  kind: ProcessKind;
  /** Carries this run's marker, so this run started it. */
  ours: boolean;
  command: string;
}

const MARKER_VAR = 'BILBO_BENCH_RUN';

/** Sets this run's marker in the environment; call before spawning anything. */
export function markThisRun(): string {
  const marker = `${MARKER_VAR}=${randomUUID()}`;
  process.env[MARKER_VAR] = marker.slice(MARKER_VAR.length + 1);
  return marker;
}

/** Every live (not zombie) process on the machine, but this one. */
export function snapshotProcesses(marker: string): Map<number, ProcessInfo> {
  const processes = new Map<number, ProcessInfo>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const stat = readProcStat(pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    const command = readOrEmpty(`/proc/${pid}/cmdline`).split('\0').join(' ').trim();
    const ours = readOrEmpty(`/proc/${pid}/environ`).split('\0').includes(marker);
    processes.set(pid, { pid, kind: kindOf(command), ours, command });
  }
  return processes;
}

export interface LeftoverReport {
  /** Processes this run started that are still alive. */
  ours: ProcessInfo[];
  /** Dask or DynamoDB Local processes that appeared meanwhile without the marker (another session's). */
  others: ProcessInfo[];
}

/**
 * Compares with the snapshot taken before the run, giving the processes a
 * few seconds to finish exiting (a nanny's children go down after it).
 */
export async function leftoverProcesses(
  before: ReadonlyMap<number, ProcessInfo>,
  marker: string,
  settleMs = 10_000,
): Promise<LeftoverReport> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const fresh = [...snapshotProcesses(marker).values()].filter((info) => !before.has(info.pid));
    const ours = fresh.filter((info) => info.ours && info.kind !== 'other');
    if (ours.length === 0 || Date.now() >= deadline) {
      return { ours, others: fresh.filter((info) => !info.ours && info.kind !== 'other') };
    }
    await sleep(200);
  }
}

/** This run's live processes of a kind, e.g. while a cluster is up. */
export function countOurs(marker: string): Record<ProcessKind, number> {
  const counts: Record<ProcessKind, number> = { dask: 0, 'dynamodb-local': 0, other: 0 };
  for (const info of snapshotProcesses(marker).values()) if (info.ours) counts[info.kind]++;
  return counts;
}

function kindOf(command: string): ProcessKind {
  if (command.includes('DynamoDBLocal')) return 'dynamodb-local';
  // Workers' children are multiprocessing spawns, whose command line never names Dask.
  if (/\bdask\b|distributed|multiprocessing/.test(command)) return 'dask';
  return 'other';
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}
