/**
 * `bilbo local` from a production install: a copy of the repository with
 * `npm ci --omit=dev` (from the npm cache, offline), so nothing only the
 * devDependencies need — the CDK, cdk-nag, the test tools — is there to be
 * imported. It still starts, and a create reaches READY.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageLock from '../../package-lock.json' with { type: 'json' };
import { type BilboLocalProcess, spawnBilboLocal } from '../support/bilbo-local-process.ts';

const run = promisify(execFile);
const lock = packageLock as { packages: Record<string, { dev?: boolean }> };
const repo = join(import.meta.dirname, '..', '..');
const copy = mkdtempSync(join(tmpdir(), 'bilbo-production-'));
const home = mkdtempSync(join(tmpdir(), 'bilbo-production-home-'));
let local: BilboLocalProcess | undefined;

beforeAll(async () => {
  // What a clone has: the tracked files and the new ones git does not ignore.
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    maxBuffer: 16 * 1024 * 1024,
  });
  for (const file of stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(repo, file))) continue;
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(repo, file), join(copy, file));
  }
  await run('npm', ['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund'], {
    cwd: copy,
    maxBuffer: 16 * 1024 * 1024,
  });
}, 180_000);

afterAll(() => {
  if (local?.child.exitCode === null) local.child.kill('SIGKILL');
  rmSync(copy, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('a production install (npm ci --omit=dev)', () => {
  it('has none of the packages only the devDependencies need', () => {
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev === true)
      .map(([path]) => path);

    expect(devOnly).toContain('node_modules/aws-cdk-lib');
    expect(devOnly.filter((path) => existsSync(join(copy, path)))).toEqual([]);
  });

  it('runs bilbo local, and a create reaches READY', async () => {
    const bin = join(copy, 'cli/bin/bilbo.mjs');
    local = spawnBilboLocal(bin, { home, cwd: copy });
    const env = { ...process.env, ...(await local.ready()), BILBO_HOME: home, NO_COLOR: '1' };
    const created = await run(
      process.execPath,
      [bin, 'create', join(copy, 'examples/local.json'), '--json'],
      {
        cwd: copy,
        env,
      },
    );
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'local', state: 'READY' });
    await run(process.execPath, [bin, 'destroy', 'local', '-f'], { cwd: copy, env });

    expect(await local.interrupt()).toBe(0);
    expect(local.stderr()).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
  });
});
