/**
 * What `rcmd` and `run` share once they have built their request: start the
 * command, follow its output, summarize, and exit with its exit code.
 */
import type { CommandInvocation, CommandRecord, StartCommandRequest } from '../schemas/types.generated.ts';
import { startAndFollow } from './command-follow.ts';
import { createStreamSink, invocationLabel } from './command-output.ts';
import { RemoteCommandFailedError } from './errors.ts';
import type { Factory } from './factory.ts';
import { colors, renderTable, toJson } from './output.ts';

export interface RemoteCommandOptions {
  /** Follow the output until the command ends (false with --no-follow). */
  follow: boolean;
  /** Print the final record on stdout; the command's output then goes to stderr. */
  json: boolean;
}

export async function runRemoteCommand(
  f: Factory,
  name: string,
  request: StartCommandRequest,
  options: RemoteCommandOptions,
): Promise<void> {
  const api = await f.api();
  if (!options.follow) {
    const started = await api.startCommand(name, request);
    f.io.stdout.write(options.json ? toJson(started) : `${started.id}\n`);
    f.io.stderr.write(
      `command ${started.id} runs on ${targetsOf(started)}; see it with \`bilbo desc ${name}\`\n`,
    );
    return;
  }
  const { stdout, stderr } = f.io;
  const sink = createStreamSink(options.json ? { stdout: stderr, stderr } : { stdout, stderr });
  const command = await startAndFollow(f, api, name, request, sink);

  for (const invocation of command.invocations.filter((i) => i.truncated)) {
    f.io.stderr.write(
      `warning: the output of ${invocationLabel(invocation)} was cut short where it ran; ` +
        'its end is in `bilbo desc` and on the instance\n',
    );
  }
  if (command.invocations.length > 1) f.io.stderr.write(summaryOf(command, colors(f.io.stderrColor)));
  if (options.json) f.io.stdout.write(toJson(command));
  const failure = failureOf(command);
  if (failure) throw new RemoteCommandFailedError(command.id, failure.exitCode, failure.message);
}

function targetsOf(command: CommandRecord): string {
  return command.invocations.map(invocationLabel).join(', ');
}

function summaryOf(command: CommandRecord, c: ReturnType<typeof colors>): string {
  return renderTable(
    ['TARGET', 'STATE', 'EXIT'],
    command.invocations.map((i) => [invocationLabel(i), i.state, exitText(i)]),
    c,
  );
}

function exitText(invocation: CommandInvocation): string {
  if (invocation.exitCode === undefined) return '-';
  return invocation.signal ? `${invocation.exitCode} (${invocation.signal})` : String(invocation.exitCode);
}

/** Exit codes a shell's `timeout` and Ctrl-C use, for commands that end without one of their own. */
const TIMED_OUT_EXIT = 124;
const CANCELLED_EXIT = 130;

/** Why the CLI exits non-zero for an ended command, and with which code; undefined when it succeeded. */
export function failureOf(command: CommandRecord): { exitCode: number; message: string } | undefined {
  if (command.state === 'SUCCEEDED') return undefined;
  const reason = command.reason ? `: ${command.reason}` : '';
  const failed = command.invocations.find((i) => i.exitCode !== undefined && i.exitCode !== 0);
  const own = command.exitCode !== undefined && command.exitCode !== 0 ? command.exitCode : failed?.exitCode;
  const where = failed ? ` on ${invocationLabel(failed)}` : '';
  switch (command.state) {
    case 'TIMED_OUT':
      return {
        exitCode: own ?? TIMED_OUT_EXIT,
        message: `command ${command.id} timed out after ${command.timeoutSeconds}s${reason}`,
      };
    case 'CANCELLED':
      return { exitCode: own ?? CANCELLED_EXIT, message: `command ${command.id} was cancelled${reason}` };
    default: {
      if (own === undefined) return { exitCode: 1, message: `command ${command.id} failed${reason}` };
      const how = failed?.signal ? `was killed by ${failed.signal} (exit ${own})` : `exited ${own}`;
      return { exitCode: own, message: `command ${command.id} ${how}${where}${reason}` };
    }
  }
}
