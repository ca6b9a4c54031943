/**
 * Finds the processes an instance left on this machine: members of its
 * process group, and any process that inherited its marker environment
 * variable or runs inside its work folder (which catches a descendant that
 * moved to a process group of its own).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { INSTANCE_ENV_VAR } from '../../lambdas/adapters/local/process-provider.ts';
import { groupMembers, readProcStat } from '../../lambdas/adapters/local/processes.ts';

export interface InstanceTrace {
  id: string;
  pgid: number;
  workDir: string;
}

function safeRead(read: () => string): string {
  try {
    return read();
  } catch {
    return '';
  }
}

/** Pids of live (not zombie) processes that belong to the instance. */
export function processesOf(instance: InstanceTrace): number[] {
  const marker = `${INSTANCE_ENV_VAR}=${instance.id}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readProcStat(pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    const environ = safeRead(() => readFileSync(`/proc/${pid}/environ`, 'latin1')).split('\0');
    const cwd = safeRead(() => readlinkSync(`/proc/${pid}/cwd`));
    const cmdline = safeRead(() => readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
    if (
      stat.pgid === instance.pgid ||
      environ.includes(marker) ||
      cwd.startsWith(instance.workDir) ||
      cmdline.includes(instance.workDir)
    ) {
      pids.push(pid);
    }
  }
  return pids;
}

/** Polls `check` until it returns a value other than undefined, or throws when `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The environment of the process of group `pgid` whose command line holds `marker`: what its children inherit. */
export function environmentOfGroupMember(pgid: number, marker: string): Record<string, string> {
  const member = groupMembers(pgid).find((candidate) =>
    safeRead(() => readFileSync(`/proc/${candidate.pid}/cmdline`, 'utf8')).includes(marker),
  );
  if (!member) throw new Error(`no process of group ${pgid} runs ${marker}`);
  const pairs = readFileSync(`/proc/${member.pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(
    pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}
