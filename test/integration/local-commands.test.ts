/**
 * Remote commands in local mode: real bash processes in the instances'
 * work folders, output read back in pieces, exit codes and signals,
 * cancellation, and what a restarted plane finds.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type InstanceRecord, InstanceRegistry } from '../../lambdas/adapters/local/instance-registry.ts';
import { LocalRemoteCommands } from '../../lambdas/adapters/local/local-commands.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import type { InvocationReport, RemoteScript, SentCommand } from '../../lambdas/domain/ports.ts';
import type { ClusterInstance } from '../../schemas/types.generated.ts';

const PYTHON = '/usr/bin/python3';
let stateDir: string;
let registry: InstanceRegistry;
let runner: LocalRemoteCommands;

async function anInstance(id: string, role: ClusterInstance['role'] = 'worker'): Promise<ClusterInstance> {
  const workDir = join(stateDir, 'work', id);
  const record: InstanceRecord = {
    id,
    clusterId: 'c-0000000000000001',
    clusterName: 'analytics',
    owner: 'local',
    role,
    index: 0,
    idempotencyToken: `c-0000000000000001-${role}`,
    pid: process.pid,
    pgid: process.pid,
    procStartTicks: 0,
    ownerPid: process.pid,
    ports: {},
    command: ['true'],
    logFile: join(stateDir, `${id}.log`),
    workDir,
    host: '127.0.0.1',
    launchedAt: new Date().toISOString(),
    state: 'running',
  };
  await registry.save(record);
  return { id, role, index: 0, privateIp: '127.0.0.1' };
}

const script = (text: string, extra: Partial<RemoteScript> = {}): RemoteScript => ({
  script: text,
  timeoutSeconds: 60,
  comment: 'test',
  ...extra,
});

/** Reads until the invocation ends, gathering every byte of both streams. */
async function follow(sent: SentCommand, instance: ClusterInstance, limit = 64 * 1024) {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const from = { stdout: 0, stderr: 0 };
  for (;;) {
    const report: InvocationReport = await runner.read(sent, instance, from, limit);
    out.push(Buffer.from(report.stdout));
    err.push(Buffer.from(report.stderr));
    from.stdout += report.stdout.length;
    from.stderr += report.stderr.length;
    if (
      !['pending', 'running'].includes(report.state) &&
      report.stdout.length === 0 &&
      report.stderr.length === 0
    ) {
      return {
        report,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
    }
    if (report.stdout.length === 0 && report.stderr.length === 0) await sleep(20);
  }
}

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'bilbo-commands-'));
  registry = new InstanceRegistry(stateDir);
  runner = new LocalRemoteCommands({ stateDir, registry, python: PYTHON, cancelGraceMs: 500 });
});
afterEach(async () => {
  await runner.stopAll();
  await rm(stateDir, { recursive: true, force: true });
});

describe('local remote commands', () => {
  it('report exit codes 0 and 3, and a signal as 128+N', async () => {
    const instance = await anInstance('i-local-a');
    const cases: [string, Partial<InvocationReport>][] = [
      ['echo fine', { state: 'succeeded', exitCode: 0 }],
      ['echo oops >&2; exit 3', { state: 'failed', exitCode: 3 }],
      ['kill -KILL $$', { state: 'failed', exitCode: 137, signal: 'SIGKILL' }],
    ];
    for (const [i, [text, expected]] of cases.entries()) {
      const sent = await runner.send(`cmd-${String(i).padStart(16, '0')}`, [instance], script(text));
      expect((await follow(sent, instance)).report).toMatchObject(expected);
    }
  });

  it('hand out more than 1 MB of output whole and in order, in pieces', async () => {
    const instance = await anInstance('i-local-b');
    const program = 'for i in $(seq 1 60000); do printf "line %06d é🦀\\n" "$i"; done; echo tail >&2';

    const sent = await runner.send('cmd-0000000000000010', [instance], script(program));
    const { stdout, stderr, report } = await follow(sent, instance, 4_099);

    const lines = stdout.split('\n').filter(Boolean);
    expect(Buffer.byteLength(stdout)).toBeGreaterThan(1_000_000);
    expect(lines).toHaveLength(60_000);
    expect(lines.every((line, i) => line === `line ${String(i + 1).padStart(6, '0')} é🦀`)).toBe(true);
    expect(stderr).toBe('tail\n');
    expect(report.totalBytes.stdout).toBe(Buffer.byteLength(stdout));
  });

  it('run in the working folder with the files and environment given, literally', async () => {
    const instance = await anInstance('i-local-c', 'notebook');
    const sent = await runner.send(
      'cmd-0000000000000020',
      [instance],
      script('pwd; cat data.txt; printf "%s" "$SEEN"', {
        workdir: 'works',
        files: { 'data.txt': new TextEncoder().encode('payload\n') },
        env: { SEEN: "$(rm -rf ~) '; reboot;'" },
      }),
    );

    const { stdout } = await follow(sent, instance);

    expect(stdout).toBe(`${join(stateDir, 'work', 'i-local-c', 'works')}\npayload\n$(rm -rf ~) '; reboot;'`);
  });

  it('read each secret of the environment by name from the secret store when they start', async () => {
    const secrets = new MemorySecretStore();
    const name = await secrets.put('c-0000000000000001', 'git-password', "pa'ss $(touch pwned) é");
    runner = new LocalRemoteCommands({ stateDir, registry, python: PYTHON, secrets });
    const instance = await anInstance('i-local-s', 'notebook');

    const sent = await runner.send(
      'cmd-0000000000000025',
      [instance],
      script('printf "%s" "$GIT_PASSWORD"', { secretEnv: { GIT_PASSWORD: name } }),
    );

    expect((await follow(sent, instance)).stdout).toBe("pa'ss $(touch pwned) é");
    await expect(
      runner.send(
        'cmd-0000000000000026',
        [instance],
        script('true', { secretEnv: { GIT_PASSWORD: `${name}-gone` } }),
      ),
    ).rejects.toThrow(`its secret ${name}-gone (for GIT_PASSWORD) is not stored`);
  });

  it('refuse a working folder outside the instance folder', async () => {
    const instance = await anInstance('i-local-d');
    await expect(
      runner.send('cmd-0000000000000030', [instance], script('true', { workdir: '../../etc' })),
    ).rejects.toThrow(/outside the instance's folder/);
  });

  it('cancel a running invocation and its children', async () => {
    const instance = await anInstance('i-local-e');
    const sent = await runner.send(
      'cmd-0000000000000040',
      [instance],
      script('sleep 300 & echo started; wait'),
    );
    while ((await runner.read(sent, instance, { stdout: 0, stderr: 0 }, 100)).stdout.length === 0)
      await sleep(20);

    await runner.cancel(sent, [instance]);

    expect((await follow(sent, instance)).report.state).toBe('cancelled');
  });

  it('time out a command that runs too long', async () => {
    const instance = await anInstance('i-local-f');
    const sent = await runner.send(
      'cmd-0000000000000050',
      [instance],
      script('sleep 300', { timeoutSeconds: 1 }),
    );

    expect((await follow(sent, instance)).report.state).toBe('timed-out');
  });

  it('count an invocation whose plane stopped as lost, with its output kept', async () => {
    const instance = await anInstance('i-local-g');
    const sent = await runner.send('cmd-0000000000000060', [instance], script('echo before; sleep 300'));
    while ((await runner.read(sent, instance, { stdout: 0, stderr: 0 }, 100)).stdout.length === 0)
      await sleep(20);
    await runner.stopAll();
    // As if the plane had been killed (SIGKILL): its end never written.
    const ending = join(stateDir, 'commands', 'cmd-0000000000000060', 'i-local-g.exit');
    while (!existsSync(ending)) await sleep(20);
    await rm(ending);

    const restarted = new LocalRemoteCommands({ stateDir, registry, python: PYTHON });
    const report = await restarted.read(sent, instance, { stdout: 0, stderr: 0 }, 1_000);

    expect(report).toMatchObject({ state: 'lost', reason: 'the control plane stopped while it ran' });
    expect(new TextDecoder().decode(report.stdout)).toBe('before\n');
    expect(await readFile(join(stateDir, 'commands', 'cmd-0000000000000060', 'i-local-g.out'), 'utf8')).toBe(
      'before\n',
    );
  });
});
