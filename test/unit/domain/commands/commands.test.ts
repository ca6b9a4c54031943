import { describe, expect, it } from 'vitest';
import { MemoryClusterStore } from '../../../../lambdas/adapters/memory/cluster-store.ts';
import { MemoryCommandStore } from '../../../../lambdas/adapters/memory/command-store.ts';
import {
  ClusterNotReadyError,
  NotOwnerError,
  UnknownTargetError,
  ValidationError,
} from '../../../../lambdas/domain/errors.ts';
import {
  type CommandDeps,
  cancelCommand,
  listCommands,
  OUTPUT_CHUNK_BYTES,
  readCommand,
  startCommand,
} from '../../../../lambdas/domain/use-cases/commands.ts';
import type { Cluster, ClusterInstance } from '../../../../schemas/types.generated.ts';
import { RecordingWorkflows } from '../../../support/api-harness.ts';
import { fakeClock } from '../../../support/fake-clock.ts';
import { type ScriptedInvocation, ScriptedRemote } from '../../../support/fake-remote.ts';
import { aPlan, readyCluster } from '../../cli/fakes.ts';

const OWNER = 'arn:aws:iam::123456789012:user/alice';
const OTHER = 'arn:aws:iam::123456789012:user/mallory';
const ADMIN = 'arn:aws:iam::123456789012:role/ops';
const INSTANCES: ClusterInstance[] = [
  { id: 'i-s', role: 'scheduler', index: 0, privateIp: '10.0.0.4' },
  { id: 'i-w0', role: 'worker', index: 0, privateIp: '10.0.0.11' },
  { id: 'i-w1', role: 'worker', index: 1, privateIp: '10.0.0.12' },
];

async function world(
  outcome: (instance: ClusterInstance) => ScriptedInvocation,
  cluster: Partial<Cluster> = {},
) {
  const clock = fakeClock();
  const store = new MemoryClusterStore({ clock });
  await store.create(readyCluster({ id: 'c-0001', owner: OWNER, instances: INSTANCES, ...cluster }), {
    step: 'create',
    message: 'recorded',
  });
  const remote = new ScriptedRemote(outcome);
  const workflows = new RecordingWorkflows();
  let ids = 0;
  const deps: CommandDeps = {
    workflows,
    store,
    commands: new MemoryCommandStore(),
    remote,
    clock,
    access: { admins: [ADMIN] },
    newCommandId: () => `cmd-${(++ids).toString(16).padStart(16, '0')}`,
    sleep: async (ms) => clock.advance(ms),
  };
  return { deps, remote, clock, workflows, store };
}

describe('starting a command', () => {
  it('records it, then sends it to the target instances in order', async () => {
    const { deps, remote } = await world(() => ({}));

    const command = await startCommand(
      'analytics',
      { command: 'hostname', target: 'all' },
      { principal: OWNER },
      deps,
    );

    expect(command).toMatchObject({
      state: 'RUNNING',
      kind: 'rcmd',
      what: 'hostname',
      target: 'all',
      requestedBy: OWNER,
    });
    expect(command.invocations.map((i) => i.instanceId)).toEqual(['i-s', 'i-w0', 'i-w1']);
    expect(remote.sent[0]?.script).toMatchObject({ script: 'hostname', timeoutSeconds: 3600 });
    expect(await deps.commands.getCommand('c-0001', command.id)).toEqual(command);
  });

  it("runs as the profile's ssh_user, and as the service user when the profile names none", async () => {
    const plan = aPlan();
    const withLogin = {
      ...plan,
      roles: plan.roles.map((role) => ({ ...role, instance: { ...role.instance, ssh_user: 'ubuntu' } })),
    };
    const login = await world(() => ({}), { plan: withLogin });
    const none = await world(() => ({}));

    await startCommand('analytics', { command: 'id -un', target: 'all' }, { principal: OWNER }, login.deps);
    await startCommand('analytics', { command: 'id -un', target: 'all' }, { principal: OWNER }, none.deps);

    expect(login.remote.sent[0]?.script.user).toBe('ubuntu');
    expect(none.remote.sent[0]?.script).not.toHaveProperty('user');
  });

  it('refuses targets whose roles log in as different users, naming them', async () => {
    const plan = aPlan();
    const mixed = {
      ...plan,
      roles: plan.roles.map((role) => ({
        ...role,
        instance: { ...role.instance, ssh_user: role.role === 'scheduler' ? 'ubuntu' : 'ec2-user' },
      })),
    };
    const { deps, remote } = await world(() => ({}), { plan: mixed });

    await expect(
      startCommand('analytics', { command: 'id', target: 'all' }, { principal: OWNER }, deps),
    ).rejects.toThrow(
      /^target: these instances log in as different users \(scheduler: ubuntu, worker: ec2-user\)/,
    );
    await startCommand('analytics', { command: 'id', target: 'worker' }, { principal: OWNER }, deps);
    expect(remote.sent.map((sent) => sent.script.user)).toEqual(['ec2-user']);
  });

  it('is for the owner and admins only', async () => {
    const { deps, remote } = await world(() => ({}));

    await expect(
      startCommand('analytics', { command: 'id', target: 'all' }, { principal: OTHER }, deps),
    ).rejects.toBeInstanceOf(NotOwnerError);
    await startCommand('analytics', { command: 'id', target: 'all' }, { principal: ADMIN }, deps);
    expect(remote.sent).toHaveLength(1);
  });

  it('refuses an unknown target, a cluster that is not READY, and a request that is neither command nor run', async () => {
    const { deps, remote } = await world(() => ({}));
    await expect(
      startCommand('analytics', { command: 'id', target: 'worker:9' }, { principal: OWNER }, deps),
    ).rejects.toBeInstanceOf(UnknownTargetError);
    await expect(startCommand('analytics', {}, { principal: OWNER }, deps)).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(startCommand('analytics', { command: 'id' }, { principal: OWNER }, deps)).rejects.toThrow(
      /^target: /,
    );

    const creating = await world(() => ({}), { state: 'CREATING' });
    await expect(
      startCommand('analytics', { command: 'id', target: 'all' }, { principal: OWNER }, creating.deps),
    ).rejects.toBeInstanceOf(ClusterNotReadyError);
    expect(remote.sent).toEqual([]);
  });

  it('runs a file on the scheduler when there is no notebook', async () => {
    const { deps, remote } = await world(() => ({}));

    const command = await startCommand(
      'analytics',
      {
        run: {
          file: 'prep.py',
          content: Buffer.from('print(1)').toString('base64'),
          parameters: { rows: 10 },
        },
      },
      { principal: OWNER },
      deps,
    );

    expect(command).toMatchObject({ kind: 'run', what: 'prep.py rows=10', target: 'scheduler' });
    expect(remote.sent[0]?.instances.map((i) => i.id)).toEqual(['i-s']);
    expect(remote.sent[0]?.script.env).toEqual({ rows: '10' });
  });
});

describe('reading a command', () => {
  it('hands out the output from the cursor, and records the end with the first non-zero exit code', async () => {
    const outputs: Record<string, ScriptedInvocation> = {
      'i-s': { stdout: 'scheduler ok\n', exitCode: 0 },
      'i-w0': { stdout: 'w0\n', stderr: 'boom\n', exitCode: 3 },
      'i-w1': { exitCode: 137, signal: 'SIGKILL' },
    };
    const { deps } = await world((instance) => outputs[instance.id]!);
    const started = await startCommand(
      'analytics',
      { command: 'x', target: 'all' },
      { principal: OWNER },
      deps,
    );

    const first = await readCommand('analytics', started.id, undefined, 0, OWNER, deps);

    expect(first.output).toEqual([
      { instanceId: 'i-s', stdout: 'scheduler ok\n', stderr: '' },
      { instanceId: 'i-w0', stdout: 'w0\n', stderr: 'boom\n' },
      { instanceId: 'i-w1', stdout: '', stderr: '' },
    ]);
    expect(first.next).toBe('13:0,3:5,0:0');
    expect(first.command).toMatchObject({ state: 'FAILED', exitCode: 3 });
    expect(first.command.invocations[1]).toMatchObject({
      state: 'failed',
      exitCode: 3,
      outputTail: 'w0\nboom',
    });
    expect(first.command.invocations[2]).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });

    const again = await readCommand('analytics', started.id, first.next, 0, OWNER, deps);
    expect(again.output.every((o) => o.stdout === '' && o.stderr === '')).toBe(true);
    expect(again.command).toEqual(first.command);
  });

  it('hands out the rest of the output after the command ended, a chunk at a time, characters whole', async () => {
    const big = `${'é🦀'.repeat(200_000)}\n`;
    const { deps } = await world(() => ({ stdout: big }));
    const started = await startCommand(
      'analytics',
      { command: 'x', target: 'scheduler' },
      { principal: OWNER },
      deps,
    );

    let cursor: string | undefined;
    let text = '';
    for (let reads = 0; reads < 20; reads++) {
      const answer = await readCommand('analytics', started.id, cursor, 0, OWNER, deps);
      if (answer.output[0]!.stdout === '' && answer.command.state !== 'RUNNING') break;
      text += answer.output[0]!.stdout;
      cursor = answer.next;
    }

    expect(Buffer.byteLength(big)).toBeGreaterThan(OUTPUT_CHUNK_BYTES * 4);
    expect(text).toBe(big);
  });

  it('waits for output up to the wait, then answers what it has', async () => {
    const { deps, remote } = await world(() => ({ readsBeforeEnd: 3, stdout: 'late\n' }));
    const started = await startCommand(
      'analytics',
      { command: 'x', target: 'scheduler' },
      { principal: OWNER },
      deps,
    );

    const answer = await readCommand('analytics', started.id, undefined, 20_000, OWNER, deps);

    // The scripted output exists from the start: the first read hands it out.
    expect(answer.output[0]?.stdout).toBe('late\n');
    expect(remote.reads.length).toBeGreaterThanOrEqual(1);
  });

  it('stops a command that overran its timeout, recording TIMED_OUT', async () => {
    const { deps, clock, remote } = await world(() => ({ readsBeforeEnd: 1_000 }));
    const started = await startCommand(
      'analytics',
      { command: 'sleep 999', target: 'scheduler', timeoutSeconds: 5 },
      { principal: OWNER },
      deps,
    );
    clock.advance(70_000);

    const answer = await readCommand('analytics', started.id, undefined, 0, OWNER, deps);

    expect(answer.command).toMatchObject({ state: 'TIMED_OUT', reason: expect.stringContaining('5 s') });
    expect(remote.cancelled).toEqual([started.providerCommandId]);
  });

  it('shows others that a command ran but not its output', async () => {
    const { deps } = await world(() => ({ stdout: 'secret\n' }));
    const started = await startCommand(
      'analytics',
      { command: 'x', target: 'scheduler' },
      { principal: OWNER },
      deps,
    );
    await readCommand('analytics', started.id, undefined, 0, OWNER, deps);

    await expect(readCommand('analytics', started.id, undefined, 0, OTHER, deps)).rejects.toBeInstanceOf(
      NotOwnerError,
    );
    const [listed] = await listCommands('analytics', OTHER, deps);
    expect(listed?.state).toBe('SUCCEEDED');
    expect(listed?.invocations[0]).not.toHaveProperty('outputTail');
    expect((await listCommands('analytics', OWNER, deps))[0]?.invocations[0]?.outputTail).toBe('secret');
  });
});

describe('run -r', () => {
  it('restarts the cluster once the run ended, whatever its outcome, once', async () => {
    const { deps, workflows } = await world(() => ({ exitCode: 2 }));
    const started = await startCommand(
      'analytics',
      {
        run: { file: 'job.py', content: Buffer.from('raise SystemExit(2)').toString('base64') },
        restartAfter: true,
      },
      { principal: OWNER },
      deps,
    );

    const ended = await readCommand('analytics', started.id, undefined, 0, OWNER, deps);
    await readCommand('analytics', started.id, undefined, 0, OWNER, deps);

    expect(ended.command).toMatchObject({ state: 'FAILED', restartAfter: true });
    expect(workflows.started.map((w) => w.workflow)).toEqual(['restart']);
    expect((await deps.store.findByName('analytics'))?.state).toBe('RESTARTING');
  });

  it('says why in the events when the restart cannot start, and keeps the command ended', async () => {
    const { deps, workflows, store } = await world(() => ({}));
    workflows.failure = new Error('states:StartExecution throttled');
    const started = await startCommand(
      'analytics',
      { run: { file: 'job.py', content: Buffer.from('pass').toString('base64') }, restartAfter: true },
      { principal: OWNER },
      deps,
    );

    const ended = await readCommand('analytics', started.id, undefined, 0, OWNER, deps);

    expect(ended.command.state).toBe('SUCCEEDED');
    const events = await store.events('c-0001');
    expect(events.at(-1)?.message).toMatch(
      new RegExp(`^the restart asked for after ${started.id} could not start: `),
    );
  });
});

describe('cancelling a command', () => {
  it('cancels it at the provider and records CANCELLED, once', async () => {
    const { deps, remote } = await world(() => ({ readsBeforeEnd: 1_000 }));
    const started = await startCommand(
      'analytics',
      { command: 'sleep 60', target: 'worker' },
      { principal: OWNER },
      deps,
    );

    await expect(cancelCommand('analytics', started.id, { principal: OTHER }, deps)).rejects.toBeInstanceOf(
      NotOwnerError,
    );
    const cancelled = await cancelCommand('analytics', started.id, { principal: OWNER }, deps);
    const again = await cancelCommand('analytics', started.id, { principal: OWNER }, deps);

    expect(cancelled).toMatchObject({ state: 'CANCELLED', reason: `cancelled by ${OWNER}` });
    expect(cancelled.invocations.map((i) => i.state)).toEqual(['cancelled', 'cancelled']);
    expect(again).toEqual(cancelled);
    expect(remote.cancelled).toEqual([started.providerCommandId]);
  });
});
