/**
 * `bilbo local` as a user runs it: a process that prints how to point the
 * CLI at it, serves a create, and on Ctrl-C stops everything it started —
 * the cluster's Dask processes and DynamoDB Local — and exits 0.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../lambdas/adapters/local/processes.ts';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'cli/bin/bilbo.mjs');
const home = mkdtempSync(join(tmpdir(), 'bilbo-local-e2e-'));
let server: ChildProcess | undefined;

afterAll(() => {
  if (server?.exitCode === null) server.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

/** Every descendant of `pid`, found through /proc's parent links. */
function descendantsOf(pid: number): number[] {
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

function exportsFrom(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/(\w+)=(\S+)/g)].map((match) => [match[1]!, match[2]!]));
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('bilbo local', () => {
  it('serves the CLI and, on Ctrl-C, stops with exit 0 and nothing it started left running', async () => {
    server = spawn(process.execPath, [bin, 'local'], {
      env: { ...process.env, BILBO_HOME: home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    server.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    server.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    await expect.poll(() => stderr, { timeout: 60_000, interval: 200 }).toContain('press Ctrl-C to stop');

    const settings = exportsFrom(stdout);
    expect(settings.BILBO_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const env = { ...process.env, ...settings, BILBO_HOME: home, NO_COLOR: '1' };
    const created = await promisify(execFile)(
      process.execPath,
      [bin, 'create', join(repo, 'examples/local.json'), '--json'],
      { env },
    );
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'local', state: 'READY' });

    const started = descendantsOf(server.pid!);
    const cmdlines = started.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    expect(cmdlines.some((line) => line.includes('DynamoDBLocal'))).toBe(true);
    expect(cmdlines.filter((line) => line.includes('dask\0scheduler'))).toHaveLength(1);

    server.kill('SIGINT');
    expect(await waitForExit(server)).toBe(0);
    expect(stderr).toContain('stopped');
    expect(started.filter((pid) => isProcessAlive(pid))).toEqual([]);
  });
});
