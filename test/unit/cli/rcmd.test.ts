import { describe, expect, it, vi } from 'vitest';
import { rcmdRun } from '../../../cli/commands/rcmd.ts';
import { ApiRequestError, RemoteCommandFailedError } from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import { aCommand, anInvocation, ended, fakeFactory, scriptedApi, scriptedCommand } from './fakes.ts';

const three = () =>
  aCommand({
    target: 'all',
    invocations: [anInvocation('scheduler', 0), anInvocation('worker', 0), anInvocation('worker', 1)],
  });

function rcmd(...polls: Parameters<typeof scriptedCommand>[1]) {
  const command = scriptedCommand(aCommand(), polls);
  const api = scriptedApi({ commands: [command] });
  return { api, fake: fakeFactory({ api }) };
}

describe('bilbo rcmd', () => {
  it('starts the command on the target, passes its output through and exits 0', async () => {
    const { api, fake } = rcmd(
      { output: [['up 3 days\n', '']] },
      { output: [['', 'a warning\n']], command: ended(aCommand(), 'SUCCEEDED') },
    );
    expect(await main(['rcmd', 'analytics', 'scheduler', 'uptime'], fake.f)).toBe(0);
    expect(api.startCommand).toHaveBeenCalledWith('analytics', { target: 'scheduler', command: 'uptime' });
    expect(fake.stdout.text).toBe('up 3 days\n');
    expect(fake.stderr.text).toBe('a warning\n');
  });

  it('joins the words of the command with spaces, flags included', async () => {
    const { api, fake } = rcmd({ command: ended(aCommand(), 'SUCCEEDED') });
    expect(await main(['rcmd', 'analytics', 'all', 'ls', '-l', '--json', '/tmp'], fake.f)).toBe(0);
    expect(api.startCommand).toHaveBeenCalledWith('analytics', {
      target: 'all',
      command: 'ls -l --json /tmp',
    });
  });

  it('takes the command as one quoted string, after an optional --', async () => {
    const { api, fake } = rcmd({ command: ended(aCommand(), 'SUCCEEDED') });
    expect(await main(['rcmd', '-t', '60', 'analytics', 'worker:1', '--', 'df -h | tail -1'], fake.f)).toBe(
      0,
    );
    expect(api.startCommand).toHaveBeenCalledWith('analytics', {
      target: 'worker:1',
      command: 'df -h | tail -1',
      timeoutSeconds: 60,
    });
  });

  it('long-polls with the cursor each answer gives, waiting 0 once the command has ended', async () => {
    const { api, fake } = rcmd(
      { output: [['a', '']] },
      { output: [['b', '']] },
      { output: [['c', '']], command: ended(aCommand(), 'SUCCEEDED') },
    );
    await main(['rcmd', 'analytics', 'scheduler', 'x'], fake.f);
    expect(api.getCommandOutput.mock.calls.map(([, , options]) => options)).toEqual([
      { wait: 20 },
      { offset: '1:1', wait: 20 },
      { offset: '2:2', wait: 20 },
      { offset: '3:3', wait: 0 },
    ]);
    expect(fake.stdout.text).toBe('abc');
  });

  it('reads on after the end until an answer brings no more output', async () => {
    const done = ended(aCommand(), 'SUCCEEDED');
    const { fake } = rcmd(
      { output: [['first ', '']], command: done },
      { output: [['second ', '']] },
      { output: [['third', '']] },
    );
    expect(await main(['rcmd', 'analytics', 'scheduler', 'x'], fake.f)).toBe(0);
    expect(fake.stdout.text).toBe('first second third');
  });

  it('exits with the remote exit code, and says so on stderr', async () => {
    const { fake } = rcmd(
      { output: [['partial\n', 'boom\n']] },
      { command: ended(aCommand(), 'FAILED', [{ exitCode: 3 }], { exitCode: 3 }) },
    );
    expect(await main(['rcmd', 'analytics', 'scheduler', 'exit 3'], fake.f)).toBe(3);
    expect(fake.stdout.text).toBe('partial\n');
    expect(fake.stderr.text).toBe('boom\nerror: command cmd-00000000000000a1 exited 3 on scheduler-0\n');
  });

  it('exits 128+9 when the command was killed by SIGKILL', async () => {
    const { fake } = rcmd({
      command: ended(aCommand(), 'FAILED', [{ exitCode: 137, signal: 'SIGKILL' }], { exitCode: 137 }),
    });
    expect(await main(['rcmd', 'analytics', 'scheduler', 'sleep 100'], fake.f)).toBe(128 + 9);
    expect(fake.stderr.text).toContain('was killed by SIGKILL (exit 137) on scheduler-0');
  });

  it('exits 124 when the command timed out without an exit code, with the reason', async () => {
    const { fake } = rcmd({
      command: ended(aCommand(), 'TIMED_OUT', [{ exitCode: undefined, state: 'timed-out' }], {
        timeoutSeconds: 5,
        reason: 'stopped after its timeout',
      }),
    });
    expect(await main(['rcmd', 'analytics', 'scheduler', 'sleep 100'], fake.f)).toBe(124);
    expect(fake.stderr.text).toContain('timed out after 5s: stopped after its timeout');
  });

  it('exits 1 when an invocation is lost without an exit code', async () => {
    const { fake } = rcmd({
      command: ended(aCommand(), 'FAILED', [{ exitCode: undefined, state: 'lost' }], {
        reason: 'the instance stopped answering',
      }),
    });
    expect(await main(['rcmd', 'analytics', 'scheduler', 'x'], fake.f)).toBe(1);
    expect(fake.stderr.text).toContain('failed: the instance stopped answering');
  });

  describe('on several instances', () => {
    const allFailing = () =>
      scriptedCommand(three(), [
        {
          output: [
            ['s1\ns', ''],
            ['w0\n', 'oops\n'],
            ['w1', ''],
          ],
        },
        {
          output: [
            ['2\n', ''],
            ['', ''],
            ['\n', ''],
          ],
          command: ended(
            three(),
            'FAILED',
            [{ exitCode: 0, state: 'succeeded' }, { exitCode: 2 }, { exitCode: 5 }],
            {
              exitCode: 2,
            },
          ),
        },
      ]);

    it('prefixes each whole line with [role-index], and never splits a line', async () => {
      const fake = fakeFactory({ api: scriptedApi({ commands: [allFailing()] }) });
      await main(['rcmd', 'analytics', 'all', 'x'], fake.f);
      expect(fake.stdout.text).toBe('[scheduler-0] s1\n[worker-0] w0\n[scheduler-0] s2\n[worker-1] w1\n');
      expect(fake.stderr.text).toMatch(/^\[worker-0\] oops\n/);
    });

    it('exits with the first non-zero exit code and prints a summary of every target on stderr', async () => {
      const fake = fakeFactory({ api: scriptedApi({ commands: [allFailing()] }) });
      expect(await main(['rcmd', 'analytics', 'all', 'x'], fake.f)).toBe(2);
      expect(fake.stderr.text).toMatch(/^TARGET\s+STATE\s+EXIT$/m);
      expect(fake.stderr.text).toMatch(/^scheduler-0\s+succeeded\s+0$/m);
      expect(fake.stderr.text).toMatch(/^worker-0\s+failed\s+2$/m);
      expect(fake.stderr.text).toMatch(/^worker-1\s+failed\s+5$/m);
      expect(fake.stderr.text).toMatch(/error: command \S+ exited 2 on worker-0\n$/);
    });

    it('ends a last line that has no newline with one', async () => {
      const command = scriptedCommand(three(), [
        {
          output: [
            ['no newline', ''],
            ['', ''],
            ['', ''],
          ],
          command: ended(three(), 'SUCCEEDED'),
        },
      ]);
      const fake = fakeFactory({ api: scriptedApi({ commands: [command] }) });
      expect(await main(['rcmd', 'analytics', 'all', 'x'], fake.f)).toBe(0);
      expect(fake.stdout.text).toBe('[scheduler-0] no newline\n');
    });
  });

  it('passes multi-byte characters through whole, as they arrive', async () => {
    const { fake } = rcmd(
      { output: [['naïve ', '']] },
      { output: [['日本語 ', '']] },
      { output: [['🦀\n', 'é']], command: ended(aCommand(), 'SUCCEEDED') },
    );
    await main(['rcmd', 'analytics', 'scheduler', 'x'], fake.f);
    expect(Buffer.from(fake.stdout.text, 'utf8')).toEqual(Buffer.from('naïve 日本語 🦀\n', 'utf8'));
    expect(fake.stderr.text).toBe('é');
  });

  it('passes control characters through unchanged on a single target', async () => {
    const { fake } = rcmd({
      output: [['\u001b[31mred\u001b[0m\r\n\t', '']],
      command: ended(aCommand(), 'SUCCEEDED'),
    });
    await main(['rcmd', 'analytics', 'scheduler', 'x'], fake.f);
    expect(fake.stdout.text).toBe('\u001b[31mred\u001b[0m\r\n\t');
  });

  it('passes more than 1 MB of output through in order', async () => {
    const chunks = Array.from(
      { length: 40 },
      (_, n) => `${String(n).padStart(4, '0')}${'x'.repeat(32 * 1024)}\n`,
    );
    const polls = chunks.map((chunk) => ({ output: [[chunk, '']] as [string, string][] }));
    const { fake } = rcmd(...polls, { command: ended(aCommand(), 'SUCCEEDED') });
    expect(await main(['rcmd', 'analytics', 'scheduler', 'x'], fake.f)).toBe(0);
    expect(fake.stdout.text.length).toBeGreaterThan(1024 * 1024);
    expect(fake.stdout.text).toBe(chunks.join(''));
  });

  it('cancels the remote command on Ctrl-C and exits 130', async () => {
    const { api, fake } = rcmd({ output: [['working\n', '']] }, { hang: true });
    const exit = main(['rcmd', 'analytics', 'scheduler', 'sleep 1000'], fake.f);
    await vi.waitFor(() => expect(api.getCommandOutput).toHaveBeenCalledTimes(2));
    fake.interrupt();
    expect(await exit).toBe(130);
    expect(api.cancelCommand).toHaveBeenCalledWith('analytics', 'cmd-00000000000000a1');
    expect(fake.stdout.text).toBe('working\n');
    expect(fake.stderr.text).toBe('cancelled command cmd-00000000000000a1\n');
  });

  it('cancels a command Ctrl-C interrupted while it was starting', async () => {
    const command = scriptedCommand(aCommand(), []);
    const api = scriptedApi({ commands: [command] });
    const fake = fakeFactory({ api });
    api.startCommand.mockImplementationOnce(async () => {
      fake.interrupt();
      return command.started;
    });
    expect(await main(['rcmd', 'analytics', 'scheduler', 'x'], fake.f)).toBe(130);
    expect(api.cancelCommand).toHaveBeenCalledTimes(1);
  });

  it('still exits 130 when the cancel fails, saying the command may still run', async () => {
    const { api, fake } = rcmd({ hang: true });
    api.cancelCommand.mockRejectedValueOnce(new ApiRequestError(500, 'INTERNAL', 'the store is down'));
    const exit = main(['rcmd', 'analytics', 'scheduler', 'x'], fake.f);
    await vi.waitFor(() => expect(api.getCommandOutput).toHaveBeenCalled());
    fake.interrupt();
    expect(await exit).toBe(130);
    expect(fake.stderr.text).toContain('could not cancel command cmd-00000000000000a1 (the store is down)');
  });

  it("exits 1 with the server's message for a target that matches nothing", async () => {
    const api = scriptedApi({
      commands: [
        new ApiRequestError(
          400,
          'UNKNOWN_TARGET',
          'no instance matches "gpu": the targets are scheduler, worker, worker:0, worker:1, all',
          'target',
        ),
      ],
    });
    const fake = fakeFactory({ api });
    expect(await main(['rcmd', 'analytics', 'gpu', 'x'], fake.f)).toBe(1);
    expect(fake.stderr.text).toBe(
      'error: no instance matches "gpu": the targets are scheduler, worker, worker:0, worker:1, all\n',
    );
    expect(api.getCommandOutput).not.toHaveBeenCalled();
  });

  it('prints the command id and returns with --no-follow', async () => {
    const { api, fake } = rcmd();
    expect(await main(['rcmd', '--no-follow', 'analytics', 'scheduler', 'x'], fake.f)).toBe(0);
    expect(fake.stdout.text).toBe('cmd-00000000000000a1\n');
    expect(api.getCommandOutput).not.toHaveBeenCalled();
  });

  it('prints the final record on stdout with --json, the output on stderr, and keeps the exit code', async () => {
    const last = ended(aCommand(), 'FAILED', [{ exitCode: 3 }], { exitCode: 3 });
    const { fake } = rcmd({ output: [['out\n', 'err\n']] }, { command: last });
    expect(await main(['rcmd', '--json', 'analytics', 'scheduler', 'x'], fake.f)).toBe(3);
    expect(JSON.parse(fake.stdout.text)).toEqual(last);
    expect(fake.stderr.text).toMatch(/^out\nerr\n/);
  });

  it('warns when the provider cut the output short', async () => {
    const { fake } = rcmd({ command: ended(aCommand(), 'SUCCEEDED', [{ truncated: true }]) });
    expect(await main(['rcmd', 'analytics', 'scheduler', 'x'], fake.f)).toBe(0);
    expect(fake.stderr.text).toContain('warning: the output of scheduler-0 was cut short');
  });

  it('refuses an empty command before any request', async () => {
    const { api, fake } = rcmd();
    await expect(
      rcmdRun({ name: 'analytics', target: 'all', command: '  ', follow: true, json: false }, fake.f),
    ).rejects.toThrow('rcmd needs a command');
    expect(api.startCommand).not.toHaveBeenCalled();
  });

  it('throws RemoteCommandFailedError carrying the exit code', async () => {
    const { fake } = rcmd({ command: ended(aCommand(), 'FAILED', [{ exitCode: 42 }], { exitCode: 42 }) });
    const run = rcmdRun(
      { name: 'analytics', target: 'scheduler', command: 'x', follow: true, json: false },
      fake.f,
    );
    await expect(run).rejects.toThrow(RemoteCommandFailedError);
    await expect(run).rejects.toMatchObject({ exitCode: 42, code: 'REMOTE_COMMAND_FAILED' });
  });
});
