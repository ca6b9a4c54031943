/**
 * Linux process facts and signals for the local provider, read from /proc.
 * A pid alone is not an identity (pids are recycled), so every check pairs it
 * with the process's start time (field 22 of /proc/<pid>/stat).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcStat {
  pid: number;
  /** One letter: R running, S sleeping, T stopped, Z zombie, ... */
  state: string;
  ppid: number;
  pgid: number;
  /** Clock ticks after boot at which the process started. */
  startTicks: number;
}

/** The process's /proc/<pid>/stat, or undefined when it does not exist. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 of the stat line.
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTicks: Number(fields[19]),
  };
}

export function readProcStartTicks(pid: number): number | undefined {
  return readProcStat(pid)?.startTicks;
}

/**
 * True when `pid` runs (a zombie is dead: only its exit status is left) and,
 * when `startTicks` is given, is the very process that started then.
 */
export function isProcessAlive(pid: number, startTicks?: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readProcStat(pid);
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return false;
  return startTicks === undefined || stat.startTicks === startTicks;
}

/** Every live (not zombie) process whose process group is `pgid`. */
export function groupMembers(pgid: number): ProcStat[] {
  const members: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat && stat.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(stat);
  }
  return members;
}

/**
 * The live members of a process group that a record started at
 * `leaderStartTicks` owns. When the leader is alive with another start time,
 * the pid was recycled and the group is someone else's: none are ours.
 */
export function ownGroupMembers(pgid: number, leaderStartTicks: number): ProcStat[] {
  const leader = readProcStat(pgid);
  if (leader && leader.startTicks !== leaderStartTicks) return [];
  return groupMembers(pgid).filter((member) => member.startTicks >= leaderStartTicks);
}

/** Sends a signal to a whole process group; a group that is gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

const POLL_MS = 50;
/** How long SIGKILL may take to clear a group before we give up looking. */
const KILL_WAIT_MS = 5_000;

async function waitUntilGone(pgid: number, leaderStartTicks: number, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (ownGroupMembers(pgid, leaderStartTicks).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/**
 * Ends a process group: SIGTERM (and SIGCONT, so a stopped group can act on
 * it), then SIGKILL for whatever still runs after `graceMs`. Resolves true
 * when no member is left.
 */
export async function killGroup(pgid: number, leaderStartTicks: number, graceMs: number): Promise<boolean> {
  if (ownGroupMembers(pgid, leaderStartTicks).length === 0) return true;
  signalGroup(pgid, 'SIGTERM');
  signalGroup(pgid, 'SIGCONT');
  if (await waitUntilGone(pgid, leaderStartTicks, graceMs)) return true;
  if (ownGroupMembers(pgid, leaderStartTicks).length === 0) return true;
  signalGroup(pgid, 'SIGKILL');
  return waitUntilGone(pgid, leaderStartTicks, KILL_WAIT_MS);
}
