import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { RetryingRemoteCommandRunner } from '../../../../lambdas/adapters/retrying-remote-commands.ts';
import type { SsmRemoteCommands } from '../../../../lambdas/adapters/ssm/remote-commands.ts';
import { ProviderBusyError } from '../../../../lambdas/domain/errors.ts';
import type { InvocationReport, SentCommand } from '../../../../lambdas/domain/ports.ts';
import type { ClusterInstance } from '../../../../schemas/types.generated.ts';
import { fakeClock } from '../../../support/fake-clock.ts';
import {
  type InvocationBehaviour,
  type MockSsmOptions,
  mockSsm,
  type SsmMock,
  ssmErrors,
} from '../../../support/ssm-mock.ts';
import { COMMAND_ID, instance, runnerOver, START, script } from './fixtures.ts';

const LIMIT = 1 << 20;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

let ssm: SsmMock;
afterEach(() => ssm.restore());

/** A command sent to `target`, programmed with `behaviour`, and a runner to read it. */
async function sentTo(
  behaviour: InvocationBehaviour = {},
  options: MockSsmOptions = {},
  target: ClusterInstance = instance(1),
): Promise<{ runner: SsmRemoteCommands; sent: SentCommand }> {
  ssm = mockSsm(options);
  ssm.state.program(target.id, behaviour);
  const runner = runnerOver(ssm, options.now ? { clock: { now: options.now } } : {});
  return { runner, sent: await runner.send(COMMAND_ID, [target], script()) };
}

async function readsOf(
  runner: SsmRemoteCommands,
  sent: SentCommand,
  count: number,
): Promise<InvocationReport[]> {
  const reports: InvocationReport[] = [];
  for (let n = 0; n < count; n++) reports.push(await runner.read(sent, instance(1), START, LIMIT));
  return reports;
}

describe('SsmRemoteCommands.read', () => {
  it('follows an invocation from pending through running to succeeded, with its output once it ended', async () => {
    const { runner, sent } = await sentTo({
      pendingReads: 1,
      runningReads: 2,
      stdout: 'done\n',
      stderr: 'note\n',
    });

    const reports = await readsOf(runner, sent, 4);

    expect(reports.map((report) => report.state)).toEqual(['pending', 'running', 'running', 'succeeded']);
    expect(
      reports.slice(0, 3).every((report) => report.stdout.length === 0 && report.exitCode === undefined),
    ).toBe(true);
    expect(reports[3]).toEqual({
      state: 'succeeded',
      exitCode: 0,
      stdout: new TextEncoder().encode('done\n'),
      stderr: new TextEncoder().encode('note\n'),
      totalBytes: { stdout: 5, stderr: 5 },
    });
    expect(ssm.inputsOf('GetCommandInvocation')[0]).toEqual({
      CommandId: sent.providerCommandId,
      InstanceId: instance(1).id,
    });
  });

  it('reports a failed script with its exit code', async () => {
    const { runner, sent } = await sentTo({ final: 'Failed', exitCode: 3, stderr: 'boom\n' });

    const [, , report] = await readsOf(runner, sent, 3);

    expect(report).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(report).not.toHaveProperty('signal');
    expect(text(report!.stderr)).toBe('boom\n');
  });

  it('reads 128+N as the signal N', async () => {
    const { runner, sent } = await sentTo({ final: 'Failed', exitCode: 137 });

    const [, , report] = await readsOf(runner, sent, 3);

    expect(report).toMatchObject({ state: 'failed', exitCode: 137, signal: 'SIGKILL' });
  });

  it.each([
    ['ExecutionTimedOut', 'timed-out', /ran past its timeout/],
    ['DeliveryTimedOut', 'timed-out', /did not pick the command up/],
    ['Undeliverable', 'lost', /could not deliver/],
    ['Terminated', 'lost', /stopped the invocation/],
  ] as const)('reports %s as %s, with why and no exit code', async (final, state, reason) => {
    const { runner, sent } = await sentTo({ final });

    const [, , report] = await readsOf(runner, sent, 3);

    expect(report!.state).toBe(state);
    expect(report!.reason).toMatch(reason);
    expect(report!.exitCode).toBeUndefined();
  });

  it('takes StatusDetails written with spaces, as the documentation spells them', async () => {
    const { runner, sent } = await sentTo();
    ssm.stub.on(GetCommandInvocationCommand).resolves({
      Status: 'TimedOut',
      StatusDetails: 'Delivery Timed Out',
      ResponseCode: -1,
    });

    expect((await runner.read(sent, instance(1), START, LIMIT)).state).toBe('timed-out');
  });

  it('reports InvocationDoesNotExist right after a send as pending, until SSM shows the invocation', async () => {
    const { runner, sent } = await sentTo({}, { unseenReads: 2 });

    const reports = await readsOf(runner, sent, 5);

    expect(reports.map((report) => report.state)).toEqual([
      'pending',
      'pending',
      'pending',
      'running',
      'succeeded',
    ]);
    expect(reports[0]!.reason).toMatch(/does not show the invocation yet/);
    expect(ssm.inputsOf('ListCommands')[0]).toEqual({ CommandId: sent.providerCommandId });
  });

  it('reports an invocation SSM still does not show after the grace period as lost', async () => {
    const clock = fakeClock('2026-12-07T10:00:00Z');
    const { runner, sent } = await sentTo({ unseenReads: 100 }, { now: clock.now });

    clock.advance(299_000);
    const early = await runner.read(sent, instance(1), START, LIMIT);
    clock.advance(2_000);
    const late = await runner.read(sent, instance(1), START, LIMIT);

    expect(early.state).toBe('pending');
    expect(late).toMatchObject({
      state: 'lost',
      reason: expect.stringMatching(/no invocation on i-0.* 300 s after/),
    });
  });

  it('reports an instance the command was not sent to as lost', async () => {
    const { runner, sent } = await sentTo();

    const report = await runner.read(sent, instance(9), START, LIMIT);

    expect(report).toMatchObject({ state: 'lost', reason: `the command was not sent to ${instance(9).id}` });
  });

  it('reports a command SSM does not know at all as pending', async () => {
    const { runner } = await sentTo();

    const report = await runner.read(
      { providerCommandId: '00000000-0000-4000-8000-000000000000' },
      instance(1),
      START,
      LIMIT,
    );

    expect(report).toMatchObject({ state: 'pending', reason: 'SSM does not show the command yet' });
  });

  it('answers the bytes after the offsets, at most limitBytes of each stream, in UTF-8', async () => {
    const stdout = 'héllo wörld ✓ 😀 done';
    const stderr = 'ünïcødé';
    const { runner, sent } = await sentTo({ stdout, stderr });
    await readsOf(runner, sent, 2);

    const chunks: Uint8Array[] = [];
    const offsets = { stdout: 0, stderr: 0 };
    for (;;) {
      const report = await runner.read(sent, instance(1), offsets, 5);
      if (report.stdout.length === 0 && report.stderr.length === 0) break;
      expect(report.stdout.length).toBeLessThanOrEqual(5);
      chunks.push(report.stdout);
      offsets.stdout += report.stdout.length;
      offsets.stderr += report.stderr.length;
    }

    expect(Buffer.concat(chunks)).toEqual(Buffer.from(stdout, 'utf8'));
    expect(offsets).toEqual({ stdout: Buffer.byteLength(stdout), stderr: Buffer.byteLength(stderr) });
    const past = await runner.read(sent, instance(1), { stdout: 10_000, stderr: 10_000 }, 5);
    expect([past.stdout.length, past.stderr.length]).toEqual([0, 0]);
  });

  it('marks output SSM cut at its inline limits as truncated', async () => {
    const { runner, sent } = await sentTo({ stdout: 'x'.repeat(30_000), stderr: 'short' });

    const [, , report] = await readsOf(runner, sent, 3);

    expect(report!.truncated).toBe(true);
    expect(report!.stdout).toHaveLength(24_000);
  });

  it('marks stderr cut at 8,000 characters as truncated', async () => {
    const { runner, sent } = await sentTo({ stderr: 'e'.repeat(9_000) });

    const [, , report] = await readsOf(runner, sent, 3);

    expect(report).toMatchObject({ truncated: true });
    expect(report!.stderr).toHaveLength(8_000);
  });

  it('does not mark whole output as truncated', async () => {
    const { runner, sent } = await sentTo({ stdout: 'x'.repeat(23_999), stderr: 'e'.repeat(7_999) });

    const [, , report] = await readsOf(runner, sent, 3);

    expect(report).not.toHaveProperty('truncated');
  });

  it('reports a throttled read as ProviderBusyError, and the retrying runner reads again', async () => {
    const { runner, sent } = await sentTo({ pendingReads: 0, runningReads: 0 });
    ssm.fail({ command: 'GetCommandInvocation', error: ssmErrors.throttled() });
    await expect(runner.read(sent, instance(1), START, LIMIT)).rejects.toThrow(ProviderBusyError);

    ssm.fail({ command: 'GetCommandInvocation', error: ssmErrors.internal(), times: 2 });
    const retrying = new RetryingRemoteCommandRunner(runner, { minTimeout: 0, maxTimeout: 0 });

    expect((await retrying.read(sent, instance(1), START, LIMIT)).state).toBe('succeeded');
    expect(ssm.callsOf('GetCommandInvocation')).toBe(4);
  });
});

describe('SsmRemoteCommands.cancel', () => {
  it('cancels the invocations on the instances given; they then read cancelled', async () => {
    const { runner, sent } = await sentTo({ runningReads: 10 });
    await readsOf(runner, sent, 2);

    await runner.cancel(sent, [instance(1), instance(1)]);

    expect(ssm.inputsOf('CancelCommand')).toEqual([
      { CommandId: sent.providerCommandId, InstanceIds: [instance(1).id] },
    ]);
    expect(await runner.read(sent, instance(1), START, LIMIT)).toMatchObject({
      state: 'cancelled',
      reason: 'the command was cancelled',
    });
  });

  it('is fine after the invocation ended, which stays as it ended', async () => {
    const { runner, sent } = await sentTo();
    await readsOf(runner, sent, 3);

    await expect(runner.cancel(sent, [instance(1)])).resolves.toBeUndefined();
    await expect(runner.cancel(sent, [instance(1)])).resolves.toBeUndefined();

    expect((await runner.read(sent, instance(1), START, LIMIT)).state).toBe('succeeded');
  });

  it('is fine for a command SSM no longer knows, or an instance it was not sent to', async () => {
    const { runner, sent } = await sentTo();

    await expect(
      runner.cancel({ providerCommandId: '00000000-0000-4000-8000-000000000000' }, [instance(1)]),
    ).resolves.toBeUndefined();
    await expect(runner.cancel(sent, [instance(9)])).resolves.toBeUndefined();
  });

  it('calls nothing for no instances, since SSM would cancel them all', async () => {
    const { runner, sent } = await sentTo();

    await runner.cancel(sent, []);

    expect(ssm.callsOf('CancelCommand')).toBe(0);
  });

  it('reports a throttled cancel as ProviderBusyError', async () => {
    const { runner, sent } = await sentTo();
    ssm.fail({ command: 'CancelCommand', error: ssmErrors.throttled() });

    await expect(runner.cancel(sent, [instance(1)])).rejects.toThrow(ProviderBusyError);
  });
});
