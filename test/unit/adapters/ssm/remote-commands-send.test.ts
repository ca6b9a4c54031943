import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetryingRemoteCommandRunner } from '../../../../lambdas/adapters/retrying-remote-commands.ts';
import { commentOf, SEND_COMMAND_LIMITS } from '../../../../lambdas/adapters/ssm/remote-commands.ts';
import { ProviderBusyError, ProvisioningError, ValidationError } from '../../../../lambdas/domain/errors.ts';
import { mockSsm, type SsmMock, ssmErrors } from '../../../support/ssm-mock.ts';
import { COMMAND_ID, instance, runnerOver, script } from './fixtures.ts';

const noWait = { minTimeout: 0, maxTimeout: 0 };

describe('SsmRemoteCommands.send', () => {
  let ssm: SsmMock;
  beforeEach(() => {
    ssm = mockSsm();
  });
  afterEach(() => ssm.restore());

  it('sends one AWS-RunShellScript to every instance, inline output only, and answers SSM’s CommandId', async () => {
    const sent = await runnerOver(ssm).send(
      COMMAND_ID,
      [instance(1), instance(2)],
      script({ timeoutSeconds: 900 }),
    );

    const [input] = ssm.inputsOf('SendCommand');
    expect(ssm.callsOf('SendCommand')).toBe(1);
    expect(input).toEqual({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [instance(1).id, instance(2).id],
      Parameters: { commands: [expect.any(String)], executionTimeout: ['900'] },
      TimeoutSeconds: 600,
      Comment: 'bilbo rcmd on analytics',
      MaxErrors: '100%',
      MaxConcurrency: '50',
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: false },
    });
    expect(input).not.toHaveProperty('OutputS3BucketName');
    expect(sent).toEqual({ providerCommandId: ssm.state.sent()[0]!.CommandId });
  });

  it('names each instance once', async () => {
    await runnerOver(ssm).send(COMMAND_ID, [instance(1), instance(1), instance(2)], script());

    expect(ssm.inputsOf('SendCommand')[0]!.InstanceIds).toEqual([instance(1).id, instance(2).id]);
  });

  it('runs the script as the image’s service user, in its home, unless told otherwise', async () => {
    await runnerOver(ssm).send(COMMAND_ID, [instance(1)], script());
    await runnerOver(ssm).send(COMMAND_ID, [instance(1)], script({ user: 'ubuntu', workdir: 'work/nb' }));

    const [plain, other] = ssm.inputsOf('SendCommand').map((input) => input.Parameters!.commands![0]!);
    expect(plain).toContain(
      "run_as='dask'\nservice_user='dask'\nservice_home='/home/dask'\nworkdir='/home/dask'\n",
    );
    expect(plain).toContain('runuser -u "$run_as" --');
    expect(other).toContain(
      "run_as='ubuntu'\nservice_user='dask'\nservice_home='/home/dask'\nworkdir='/home/dask/work/nb'\n",
    );
  });

  it('uses the configured delivery timeout, within SSM’s 30 s to 30 days', async () => {
    await runnerOver(ssm, { deliveryTimeoutSeconds: 120 }).send(COMMAND_ID, [instance(1)], script());
    await runnerOver(ssm, { deliveryTimeoutSeconds: 5 }).send(COMMAND_ID, [instance(1)], script());

    expect(ssm.inputsOf('SendCommand').map((input) => input.TimeoutSeconds)).toEqual([120, 30]);
  });

  it('cuts a comment to SSM’s 100 characters with an ellipsis, on one line', async () => {
    const long = `bilbo rcmd on analytics: ${'x'.repeat(200)}`;
    await runnerOver(ssm).send(COMMAND_ID, [instance(1)], script({ comment: long }));

    const comment = ssm.inputsOf('SendCommand')[0]!.Comment!;
    expect(comment).toHaveLength(100);
    expect(comment).toBe(`${long.slice(0, 99)}…`);
    expect(commentOf('a\nb\tc', COMMAND_ID)).toBe('a b c');
    expect(commentOf('', COMMAND_ID)).toBe(`bilbo ${COMMAND_ID}`);
  });

  it('never cuts a comment inside a character that takes two UTF-16 units', () => {
    const comment = commentOf('😀'.repeat(60), COMMAND_ID);

    expect(comment.length).toBeLessThanOrEqual(100);
    expect(comment).toBe(`${'😀'.repeat(49)}…`);
  });

  it.each([0, 1.5, 172_801])('refuses a timeout of %s s before calling SSM', async (timeoutSeconds) => {
    await expect(runnerOver(ssm).send(COMMAND_ID, [instance(1)], script({ timeoutSeconds }))).rejects.toThrow(
      ValidationError,
    );
    expect(ssm.callsOf('SendCommand')).toBe(0);
  });

  it('sends the 48-hour timeout AWS-RunShellScript allows', async () => {
    await runnerOver(ssm).send(COMMAND_ID, [instance(1)], script({ timeoutSeconds: 172_800 }));

    expect(ssm.inputsOf('SendCommand')[0]!.Parameters!.executionTimeout).toEqual(['172800']);
  });

  it('refuses more instances than SSM takes in one command, naming the limit', async () => {
    const many = Array.from({ length: 51 }, (_, n) => instance(n));

    await expect(runnerOver(ssm).send(COMMAND_ID, many, script())).rejects.toThrow(/at most 50 instances/);
    await expect(runnerOver(ssm).send(COMMAND_ID, [], script())).rejects.toThrow(ValidationError);
    expect(ssm.callsOf('SendCommand')).toBe(0);
  });

  it('refuses a command too big for SSM before calling it, naming the limit', async () => {
    // Random bytes do not compress: the base64 alone is over 64 KB.
    const files = { 'data.bin': new Uint8Array(randomBytes(60_000)) };

    const sending = runnerOver(ssm).send(COMMAND_ID, [instance(1)], script({ files }));

    await expect(sending).rejects.toThrow(ValidationError);
    await expect(sending).rejects.toThrow(`${SEND_COMMAND_LIMITS.parametersBytes}-byte (64 KB) limit`);
    expect(ssm.callsOf('SendCommand')).toBe(0);
  });

  it('sends a large file that compresses well (a notebook) within the limit', async () => {
    const notebook = JSON.stringify({
      cells: Array.from({ length: 4_000 }, (_, i) => ({ source: `print(${i})` })),
    });
    expect(notebook.length).toBeGreaterThan(SEND_COMMAND_LIMITS.parametersBytes);

    await runnerOver(ssm).send(
      COMMAND_ID,
      [instance(1)],
      script({ files: { 'nb.ipynb': Buffer.from(notebook) } }),
    );

    expect(ssm.callsOf('SendCommand')).toBe(1);
  });

  it('turns an instance SSM does not manage into ProvisioningError that says why', async () => {
    ssm = mockSsm({ unmanaged: [instance(2).id] });

    const sending = runnerOver(ssm).send(COMMAND_ID, [instance(1), instance(2)], script());

    await expect(sending).rejects.toThrow(ProvisioningError);
    await expect(sending).rejects.toThrow(/SSM agent is not connected/);
  });

  it('turns a denied call into ProvisioningError naming the permission', async () => {
    ssm.fail({ command: 'SendCommand', error: ssmErrors.accessDenied() });

    await expect(runnerOver(ssm).send(COMMAND_ID, [instance(1)], script())).rejects.toThrow(
      /may not call ssm:SendCommand/,
    );
  });

  it('reports a throttled send as ProviderBusyError, keeping the cause', async () => {
    const throttled = ssmErrors.throttled();
    ssm.fail({ command: 'SendCommand', error: throttled });

    const sending = runnerOver(ssm).send(COMMAND_ID, [instance(1)], script());

    await expect(sending).rejects.toThrow(ProviderBusyError);
    await expect(sending).rejects.toMatchObject({ cause: throttled });
  });

  it('is sent again when throttled, through the retrying runner, and runs once', async () => {
    ssm.fail({ command: 'SendCommand', error: ssmErrors.throttled(), times: 2 });

    const sent = await new RetryingRemoteCommandRunner(runnerOver(ssm), noWait).send(
      COMMAND_ID,
      [instance(1)],
      script(),
    );

    expect(ssm.callsOf('SendCommand')).toBe(3);
    expect(ssm.state.sent().map((command) => command.CommandId)).toEqual([sent.providerCommandId]);
  });

  it('is not sent again after an internal error, which may have reached the instances', async () => {
    ssm.fail({ command: 'SendCommand', error: ssmErrors.internal(), afterEffect: true });

    const sending = new RetryingRemoteCommandRunner(runnerOver(ssm), noWait).send(
      COMMAND_ID,
      [instance(1)],
      script(),
    );

    await expect(sending).rejects.toThrow(ProvisioningError);
    await expect(sending).rejects.toThrow(/may or may not have reached the instances/);
    expect(ssm.callsOf('SendCommand')).toBe(1);
    expect(ssm.state.sent()).toHaveLength(1);
  });
});
