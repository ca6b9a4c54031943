/** `bilbo local` as a user starts it: a child process, its output, and the settings it prints. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';

export interface BilboLocalProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves, once it says it is running, with the variables it printed (BILBO_ENDPOINT, …). */
  ready(): Promise<Record<string, string>>;
  /** Ctrl-C; resolves with the exit code. */
  interrupt(): Promise<number | null>;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
}

export function spawnBilboLocal(
  bin: string,
  options: { home: string; cwd?: string; args?: string[] },
): BilboLocalProcess {
  const child = spawn(process.execPath, [bin, 'local', ...(options.args ?? [])], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...process.env, BILBO_HOME: options.home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    ready: async () => {
      await expect.poll(() => stderr, { timeout: 60_000, interval: 200 }).toContain('press Ctrl-C to stop');
      return Object.fromEntries([...stdout.matchAll(/(\w+)=(\S+)/g)].map((match) => [match[1]!, match[2]!]));
    },
    interrupt: () => {
      child.kill('SIGINT');
      return exited;
    },
    exited,
  };
}

/** Every descendant of `pid`, found through /proc's parent links. */
export function descendantsOf(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}
