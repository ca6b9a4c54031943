/**
 * Commands on a real local cluster, as a user runs them: `bilbo rcmd` on
 * each kind of target with its exit codes, output past a megabyte, Ctrl-C,
 * `bilbo run` of a Python file with hostile parameter values and of a
 * notebook, `destroy --if-failed`, and the examples' prepare → run →
 * destroy-if-failed script.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, CommandRecord } from '../../schemas/types.generated.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const execFileAsync = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const BILBO = [join(repo, 'cli/bin/bilbo.mjs')];
let harness: TestControlPlane;

function environment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    BILBO_HOME: harness.home,
    BILBO_ENDPOINT: harness.plane.endpoint,
    BILBO_REGION: harness.plane.region,
    AWS_ACCESS_KEY_ID: harness.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: harness.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    NO_COLOR: '1',
  };
}

async function bilbo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [...BILBO, ...args], {
      env: environment(),
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function lastCommand(name: string): Promise<CommandRecord> {
  const desc = await bilbo('desc', name, '--json');
  const described = JSON.parse(desc.stdout) as { commands: CommandRecord[] };
  return described.commands[0]!;
}

beforeAll(async () => {
  harness = await startTestControlPlane();
  const created = await bilbo('create', join(repo, 'examples/local.json'), '-c', 'cmds', '--json');
  expect(created.code, created.stderr).toBe(0);
  expect((JSON.parse(created.stdout) as Cluster).state).toBe('READY');
});

afterAll(async () => {
  await harness?.stop();
});

describe('bilbo rcmd on a local cluster', () => {
  it('exits with the remote exit code, passing stdout and stderr through', async () => {
    const ok = await bilbo('rcmd', 'cmds', 'scheduler', 'echo hello; echo note >&2');
    const three = await bilbo('rcmd', 'cmds', 'worker:0', 'exit 3');
    const killed = await bilbo('rcmd', 'cmds', 'worker', 'kill -KILL $$');

    expect(ok).toMatchObject({ code: 0, stdout: 'hello\n' });
    expect(ok.stderr).toContain('note\n');
    expect(three.code).toBe(3);
    expect(killed.code).toBe(137);
  });

  it('runs on every instance with `all`, each line prefixed, the first non-zero exit code, and a summary', async () => {
    // Only the scheduler's folder holds its scheduler file: it alone exits 6.
    const all = await bilbo(
      'rcmd',
      'cmds',
      'all',
      'echo "$BILBO_INSTANCE_ID"; if test -f scheduler.json; then exit 6; fi',
    );

    expect(all.code).toBe(6);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => /^\[(scheduler|worker)-\d+\] i-local-[0-9a-f]+$/.test(line))).toBe(true);
    expect(all.stderr).toMatch(/TARGET\s+STATE\s+EXIT/);
    expect(all.stderr).toMatch(/scheduler-0\s+failed\s+6/);
    expect(all.stderr).toMatch(/worker-1\s+succeeded\s+0/);
  });

  it('refuses a target that matches nothing with exit 1, listing the valid ones', async () => {
    const wrong = await bilbo('rcmd', 'cmds', 'worker:9', 'true');

    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('use one of: all, scheduler, worker');
  });

  it('hands more than 1 MB of output over whole and in order', async () => {
    const big = await bilbo(
      'rcmd',
      'cmds',
      'scheduler',
      'for i in $(seq 1 60000); do printf "line %06d é🦀\\n" "$i"; done',
    );

    expect(big.code).toBe(0);
    const lines = big.stdout.split('\n').filter(Boolean);
    expect(Buffer.byteLength(big.stdout)).toBeGreaterThan(1_000_000);
    expect(lines).toHaveLength(60_000);
    expect(lines.every((line, i) => line === `line ${String(i + 1).padStart(6, '0')} é🦀`)).toBe(true);
  });

  it('cancels the remote command on Ctrl-C and exits 130', async () => {
    const child = spawn(
      process.execPath,
      [...BILBO, 'rcmd', 'cmds', 'scheduler', 'echo started; sleep 300'],
      {
        env: environment(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));

    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(code).toBe(130);
    expect((await lastCommand('cmds')).state).toBe('CANCELLED');
  });
});

describe('bilbo run on a local cluster', () => {
  it('gives a .py file its parameters literally, hostile ones included', async () => {
    const file = join(harness.home, 'echo_params.py');
    await import('node:fs/promises').then(({ writeFile }) =>
      writeFile(file, 'import os\nfor k in ("evil", "quote", "rows"):\n    print(k, repr(os.environ[k]))\n'),
    );

    const ran = await bilbo(
      'run',
      'cmds',
      file,
      '-p',
      'evil=$(rm -rf ~)',
      '-p',
      "quote='; reboot;'",
      '-p',
      'rows=1000',
    );

    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe(`evil '$(rm -rf ~)'\nquote "'; reboot;'"\nrows '1000'\n`);
  });

  it('runs a notebook with its parameters, writing NAME.out.ipynb beside it', async () => {
    const file = join(harness.home, 'square.ipynb');
    const notebook = {
      cells: [
        {
          cell_type: 'code',
          metadata: { tags: ['parameters'] },
          execution_count: null,
          outputs: [],
          source: ['n = 2\n'],
        },
        { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['print(n * n)\n'] },
      ],
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    await import('node:fs/promises').then(({ writeFile }) => writeFile(file, JSON.stringify(notebook)));

    const ran = await bilbo('run', 'cmds', file, '-p', 'n=12');
    const out = await bilbo('rcmd', 'cmds', 'scheduler', 'cat square.out.ipynb');

    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(out.stdout).cells[2].outputs[0].text.join('')).toBe('144\n');
  });

  it('refuses a file that is neither a notebook nor Python, before any request', async () => {
    const refused = await bilbo('run', 'cmds', join(repo, 'README.md'));

    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('takes a notebook (.ipynb) or a Python file (.py)');
  });
});

describe('destroy --if-failed', () => {
  it('keeps a cluster whose last command succeeded, and destroys one whose last command failed', async () => {
    await bilbo('rcmd', 'cmds', 'scheduler', 'true');
    const kept = await bilbo('destroy', 'cmds', '--if-failed', '--force');
    expect(kept.code).toBe(0);
    expect(JSON.parse((await bilbo('desc', 'cmds', '--json')).stdout).state).toBe('READY');

    await bilbo('rcmd', 'cmds', 'scheduler', 'exit 4');
    const destroyed = await bilbo('destroyfailed', 'cmds', '--force');

    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(JSON.parse((await bilbo('desc', 'cmds', '--json')).stdout).state).toBe('DESTROYED');
  });
});

describe("the examples' prepare → run → destroy-if-failed flow", () => {
  it('creates, prepares, runs and keeps a cluster whose run succeeded', async () => {
    const { stdout, stderr } = await execFileAsync(
      'bash',
      [join(repo, 'examples/prepare-run-destroy.sh'), 'flow'],
      {
        env: { ...environment(), BILBO: `${process.execPath} ${BILBO[0]}` },
        maxBuffer: 16 * 1024 * 1024,
      },
    );

    expect(stdout).toContain('wrote data.csv');
    expect(stderr).not.toContain('error:');
    expect(JSON.parse((await bilbo('desc', 'flow', '--json')).stdout).state).toBe('READY');
    await bilbo('destroy', 'flow', '--force');
  });
});
