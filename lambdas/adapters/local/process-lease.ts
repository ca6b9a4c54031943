/**
 * Who owns a process that bilbo started, written down so that a later run
 * can tell a leftover (its owner is gone, it still runs) from a process
 * another live control plane owns. Each process is tied to its owner (see
 * spawnTied) and ends when the owner dies; a lease covers what escaped that
 * (a watcher killed by hand, a process that ignored SIGTERM).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isProcessAlive, killGroup, ownGroupMembers, readProcStartTicks } from './processes.ts';

export interface ProcessLease {
  pid: number;
  /** The process group it leads (spawned detached, so pgid = pid). */
  pgid: number;
  /** Field 22 of /proc/<pid>/stat at launch, so a recycled pid is never mistaken for ours. */
  procStartTicks: number;
  /** The process that launched it, and that process's start time. */
  ownerPid: number;
  ownerStartTicks?: number;
}

/** `isAlive(pid, startTicks)`: whether that very process still runs. */
export type IsAlive = (pid: number, startTicks?: number) => boolean;

/** The lease of a group this process just started. */
export function leaseOf(pid: number, procStartTicks: number): ProcessLease {
  return {
    pid,
    pgid: pid,
    procStartTicks,
    ownerPid: process.pid,
    ...optional('ownerStartTicks', readProcStartTicks(process.pid)),
  };
}

/** The owner is gone (and is not this process) while the group still runs. */
export function isLeftover(lease: ProcessLease, isAlive: IsAlive = isProcessAlive): boolean {
  return !ownerAlive(lease, isAlive) && groupAlive(lease, isAlive);
}

function ownerAlive(lease: ProcessLease, isAlive: IsAlive): boolean {
  if (lease.ownerPid === process.pid) {
    // Our own pid may be a recycled one of a crashed run's owner.
    return lease.ownerStartTicks === undefined || lease.ownerStartTicks === readProcStartTicks(process.pid);
  }
  return isAlive(lease.ownerPid, lease.ownerStartTicks);
}

/** The leader runs, or (the leader died) some process of its group still does. */
export function groupAlive(lease: ProcessLease, isAlive: IsAlive = isProcessAlive): boolean {
  return (
    isAlive(lease.pid, lease.procStartTicks) || ownGroupMembers(lease.pgid, lease.procStartTicks).length > 0
  );
}

/** Writes JSON atomically: a reader sees the old file or the new one, never half. */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}

/** The JSON in `file`, or undefined when there is none (or it is not JSON: a torn write of a crashed run). */
export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/**
 * Ends the group a lease file names when it is a leftover (SIGTERM, then
 * SIGKILL after `graceMs`), and removes the file unless a live owner holds
 * it. Returns the lease of what it ended.
 */
export async function removeLeftoverLease(
  file: string,
  graceMs: number,
  isAlive: IsAlive = isProcessAlive,
): Promise<ProcessLease | undefined> {
  const lease = await readJsonFile<ProcessLease>(file);
  if (lease === undefined) return undefined;
  if (ownerAlive(lease, isAlive)) return undefined;
  const leftover = groupAlive(lease, isAlive);
  if (leftover) await killGroup(lease.pgid, lease.procStartTicks, graceMs);
  await rm(file, { force: true });
  return leftover ? lease : undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
