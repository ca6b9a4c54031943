/**
 * Starting a remote command and following its output until it ends, for
 * `rcmd`, `run` and destroy's unsaved-work check: one loop, so they all
 * read the output, end and Ctrl-C the same way.
 */
import type { CommandRecord, StartCommandRequest } from '../schemas/types.generated.ts';
import { abortable } from './abortable.ts';
import type { BilboApi } from './api/client.ts';
import type { OutputSink } from './command-output.ts';
import { RemoteCommandInterruptedError } from './errors.ts';
import type { Factory } from './factory.ts';
import { FOLLOW_WAIT_SECONDS, MIN_POLL_INTERVAL_MS } from './follow.ts';

type Deps = Pick<Factory, 'sleep' | 'onInterrupt' | 'now'>;

export function hasEnded(command: CommandRecord): boolean {
  return command.state !== 'RUNNING';
}

/**
 * Starts the command, writes its new output to `sink` as it comes until it
 * has ended, and returns its final record. Each request long-polls up to
 * FOLLOW_WAIT_SECONDS, from the cursor the last answer gave. Ctrl-C cancels
 * the command (a second one stops waiting for the cancel; one while it
 * starts cancels it once started) and throws RemoteCommandInterruptedError.
 */
export async function startAndFollow(
  f: Deps,
  api: BilboApi,
  name: string,
  request: StartCommandRequest,
  sink: OutputSink,
): Promise<CommandRecord> {
  const interrupt = listenForInterrupts(f);
  try {
    const started = await api.startCommand(name, request);
    return await follow(f, api, name, started, sink, interrupt);
  } finally {
    interrupt.dispose();
  }
}

interface Interrupts {
  /** Aborts at the first Ctrl-C. */
  first: AbortSignal;
  /** Aborts at the second. */
  second: AbortSignal;
  dispose(): void;
}

function listenForInterrupts(f: Deps): Interrupts {
  const first = new AbortController();
  const second = new AbortController();
  const dispose = f.onInterrupt(() => (first.signal.aborted ? second : first).abort());
  return { first: first.signal, second: second.signal, dispose };
}

async function follow(
  f: Deps,
  api: BilboApi,
  name: string,
  started: CommandRecord,
  sink: OutputSink,
  interrupt: Interrupts,
): Promise<CommandRecord> {
  const stop = () => new RemoteCommandInterruptedError(started.id, '');
  const guard = <T>(promise: Promise<T>) => abortable(promise, interrupt.first, stop);
  let command = started;
  let offset: string | undefined;
  const finish = (ended: CommandRecord) => {
    sink.end();
    return ended;
  };
  try {
    for (;;) {
      const asked = f.now();
      const answer = await guard(
        api.getCommandOutput(name, command.id, {
          ...(offset === undefined ? {} : { offset }),
          // Once it has ended, what is left to read is there already.
          wait: hasEnded(command) ? 0 : FOLLOW_WAIT_SECONDS,
        }),
      );
      const fresh = answer.output.some((o) => o.stdout !== '' || o.stderr !== '');
      sink.write(answer.output, answer.command.invocations);
      offset = answer.next;
      // Only an answer to a request sent after the end was seen has all of the output.
      if (hasEnded(command) && !fresh) return finish(answer.command);
      command = answer.command;
      if (!fresh && !hasEnded(command)) {
        const early = MIN_POLL_INTERVAL_MS - (f.now() - asked);
        if (early > 0) await guard(f.sleep(early, interrupt.first));
      }
    }
  } catch (error) {
    sink.end();
    if (!(error instanceof RemoteCommandInterruptedError)) throw error;
    throw await cancelAfterInterrupt(api, name, command, interrupt);
  }
}

async function cancelAfterInterrupt(
  api: BilboApi,
  name: string,
  command: CommandRecord,
  interrupt: Interrupts,
): Promise<RemoteCommandInterruptedError> {
  const gaveUp = () => new Error('stopped waiting for the cancel');
  try {
    await abortable(api.cancelCommand(name, command.id), interrupt.second, gaveUp);
    return new RemoteCommandInterruptedError(command.id, `cancelled command ${command.id}`);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return new RemoteCommandInterruptedError(
      command.id,
      `could not cancel command ${command.id} (${why}): it may still be running; see \`bilbo desc ${name}\``,
    );
  }
}
