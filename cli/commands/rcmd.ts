import { UsageError } from '../errors.ts';
import type { Factory } from '../factory.ts';
import { type RemoteCommandOptions, runRemoteCommand } from '../remote-command.ts';

export interface RcmdOptions extends RemoteCommandOptions {
  name: string;
  /** `scheduler`, `notebook`, `worker`, `worker:N`, `all`, an instance id or an address. */
  target: string;
  /** The shell command: the words after the target, joined with spaces. */
  command: string;
  timeoutSeconds?: number;
}

export async function rcmdRun(options: RcmdOptions, f: Factory): Promise<void> {
  if (options.command.trim() === '') throw new UsageError('rcmd needs a command to run after the target');
  await runRemoteCommand(
    f,
    options.name,
    {
      target: options.target,
      command: options.command,
      ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
    },
    options,
  );
}
