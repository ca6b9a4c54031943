/**
 * `bilbo local` as a user runs it: a process that prints how to point the
 * CLI at it, serves a create, and on Ctrl-C stops everything it started —
 * the cluster's Dask processes and DynamoDB Local — and exits 0.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../lambdas/adapters/local/processes.ts';
import { type BilboLocalProcess, descendantsOf, spawnBilboLocal } from '../support/bilbo-local-process.ts';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'cli/bin/bilbo.mjs');
const home = mkdtempSync(join(tmpdir(), 'bilbo-local-e2e-'));
let local: BilboLocalProcess | undefined;

afterAll(() => {
  if (local?.child.exitCode === null) local.child.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

describe('bilbo local', () => {
  it('serves the CLI and, on Ctrl-C, stops with exit 0 and nothing it started left running', async () => {
    local = spawnBilboLocal(bin, { home });
    const settings = await local.ready();

    expect(settings.BILBO_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const env = { ...process.env, ...settings, BILBO_HOME: home, NO_COLOR: '1' };
    const created = await promisify(execFile)(
      process.execPath,
      [bin, 'create', join(repo, 'examples/local.json'), '--json'],
      { env },
    );
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'local', state: 'READY' });

    const started = descendantsOf(local.child.pid!);
    const cmdlines = started.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    expect(cmdlines.some((line) => line.includes('DynamoDBLocal'))).toBe(true);
    // The scheduler itself, not the shell that ties it to the plane (whose arguments name it too).
    expect(cmdlines.filter((line) => /^[^\0]*python[^\0]*\0-m\0dask\0scheduler/.test(line))).toHaveLength(1);

    expect(await local.interrupt()).toBe(0);
    expect(local.stderr()).toContain('stopped');
    expect(started.filter((pid) => isProcessAlive(pid))).toEqual([]);
  });
});
