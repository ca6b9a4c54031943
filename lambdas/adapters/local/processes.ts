/**
 * Linux process facts and signals for the local provider, read from /proc.
 * A pid alone is not an identity (pids are recycled), so every check pairs it
 * with the process's start time (field 22 of /proc/<pid>/stat).
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Writable } from 'node:stream';
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

/**
 * The tie of a group spawnTied started: its leader shell and the watcher it
 * forked (a child of the leader running the same program line).
 */
function tieOf(pgid: number, members: readonly ProcStat[]): Set<number> {
  const line = cmdlineOf(pgid);
  return new Set(
    members
      .filter((member) => member.pid === pgid || (member.ppid === pgid && cmdlineOf(member.pid) === line))
      .map((member) => member.pid),
  );
}

function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * Stops (SIGSTOP) the processes of a tied group, all but its tie, which
 * keeps watching for its spawner's end: a stopped group still ends with
 * the process that spawned it. SIGCONT to the group continues them.
 */
export function stopGroup(pgid: number, leaderStartTicks: number): void {
  signalGroup(pgid, 'SIGSTOP');
  for (const pid of tieOf(pgid, ownGroupMembers(pgid, leaderStartTicks))) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

/** Whether the processes of a tied group (its tie aside) are stopped. */
export function groupStopped(pgid: number, leaderStartTicks: number): boolean {
  const members = ownGroupMembers(pgid, leaderStartTicks);
  const tie = tieOf(pgid, members);
  const own = members.filter((member) => !tie.has(member.pid));
  return own.length > 0 && own.every((member) => member.state === 'T');
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

/**
 * A shell that runs the command as its child, leads the process group, and
 * ends the group when the process that spawned it dies, even by SIGKILL:
 * its watcher reads a pipe only the spawner holds open, and end of file
 * means the spawner is gone. The shell exits with the command's status, so
 * the leader lives exactly as long as the command.
 */
const TIED_SCRIPT = `exec 3<&0
"$@" </dev/null 3<&- &
child=$!
{ while read -r _ <&3; do :; done
  trap '' TERM; kill -TERM 0
  n=0; while kill -0 "$child" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  kill -KILL 0; } 3<&3 </dev/null &
watcher=$!
exec 3<&-
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"`;

type Sink = 'pipe' | 'ignore' | number;

export type TiedSpawnOptions = Omit<SpawnOptions, 'detached' | 'stdio'> & {
  /** Where the command's stdout and stderr go: both to one place, or each to its own. */
  output: Sink | { stdout: Sink; stderr: Sink };
};

/**
 * Spawns `command` in its own process group, tied to this process (see
 * TIED_SCRIPT). Neither the child nor its pipe keeps this process's event
 * loop alive; the returned child's pid is the group's leader.
 */
export function spawnTied(command: readonly string[], options: TiedSpawnOptions): ChildProcess {
  const { output, ...rest } = options;
  const child = spawn('/bin/sh', ['-c', TIED_SCRIPT, 'bilbo-tied', ...command], {
    ...rest,
    detached: true,
    stdio: typeof output === 'object' ? ['pipe', output.stdout, output.stderr] : ['pipe', output, output],
  });
  child.unref();
  (child.stdin as (Writable & { unref?: () => void }) | null)?.unref?.();
  // The pipe's only job is to close with this process; a write error is nobody's business.
  child.stdin?.on('error', () => {});
  return child;
}

/** Whether some process of group `pgid` listens on TCP `port` (read from /proc/net and each member's fds). */
export function groupListensOn(pgid: number, port: number): boolean {
  return groupListeningPorts(pgid).includes(port);
}

/** The TCP ports the processes of group `pgid` listen on, in order. */
export function groupListeningPorts(pgid: number): number[] {
  const portsByInode = listeningSockets();
  if (portsByInode.size === 0) return [];
  const ports = new Set<number>();
  for (const member of groupMembers(pgid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${member.pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${member.pid}/fd/${fd}`))?.[1];
        const port = inode === undefined ? undefined : portsByInode.get(inode);
        if (port !== undefined) ports.add(port);
      } catch {
        // The fd closed while we looked.
      }
    }
  }
  return [...ports].sort((a, b) => a - b);
}

const TCP_LISTEN = '0A';

/** Every listening TCP socket of this machine: its inode → its port. */
function listeningSockets(): Map<string, number> {
  const ports = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const inode = fields[9];
      if (!local || fields[3] !== TCP_LISTEN || !inode) continue;
      ports.set(inode, Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return ports;
}
