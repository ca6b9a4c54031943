/**
 * The package as a user installs it: `npm pack` (which builds dist/), then
 * the packed files installed with their production dependencies from the
 * lockfile it ships, and put on a PATH with `npm install -g --prefix`. The
 * installed `bilbo` is compiled JavaScript: it runs without tsx.
 *
 * Offline, `npm install -g <tarball>` cannot resolve dependency versions
 * (the cache holds tarballs, not registry metadata), so the test installs
 * them with `npm ci` from the shipped npm-shrinkwrap.json first and then
 * installs that folder globally: the same files, the same bin link.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'bilbo-packed-'));
const prefix = join(work, 'prefix');
const quiet = ['--offline', '--no-audit', '--no-fund'];
let packed: string[] = [];

beforeAll(async () => {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: repo,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packed = info!.files.map((file) => file.path);
  await run('tar', ['xzf', join(work, info!.filename), '-C', work]);
  await run('npm', ['ci', '--omit=dev', ...quiet], {
    cwd: join(work, 'package'),
    maxBuffer: 16 * 1024 * 1024,
  });
  await run('npm', ['install', '-g', '--prefix', prefix, ...quiet, join(work, 'package')], { cwd: work });
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The installed `bilbo`, run from a folder that is not the package's, with a PATH holding no tsx. */
function bilbo(...args: string[]) {
  return run(join(prefix, 'bin', 'bilbo'), args, {
    cwd: work,
    env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, HOME: work, NO_COLOR: '1' },
  });
}

describe('the packed package (npm pack, then a global install)', () => {
  it('ships the compiled CLI and no TypeScript sources or tests', () => {
    expect(packed).toContain('dist/cli/bin/bilbo.js');
    expect(packed).toContain('npm-shrinkwrap.json');
    expect(packed.filter((path) => path.endsWith('.ts') || path.startsWith('test/'))).toEqual([]);
  });

  it('puts a bilbo on the PATH that prints its version', async () => {
    const { stdout, stderr } = await bilbo('version');

    expect(stdout).toMatch(/^bilbo \d+\.\d+\.\d+\n$/);
    expect(stderr).toBe('');
  });

  it('shows the help of every command', async () => {
    const { stdout } = await bilbo('--help');

    expect(stdout).toContain('Usage: bilbo');
    expect(stdout).toMatch(/create \[options\] <profile>/);
  });

  it('loads the API client when a command needs it (a config error, not a missing module)', async () => {
    const failed = bilbo('ls');

    await expect(failed).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no bilbo API endpoint/),
    });
  });

  it('leaves no npm-shrinkwrap.json behind in the checkout', () => {
    expect(readdirSync(repo)).not.toContain('npm-shrinkwrap.json');
  });
});
