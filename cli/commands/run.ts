import type { Factory } from '../factory.ts';
import { type RemoteCommandOptions, runRemoteCommand } from '../remote-command.ts';
import { buildRunRequest } from '../run-file.ts';

export interface RunOptions extends RemoteCommandOptions {
  name: string;
  /** A .ipynb or .py file on this machine. */
  file: string;
  /** `name=value` parameters, in order. */
  params: string[];
  /** Restart the cluster's Dask once the run ends (-r). */
  restart: boolean;
  timeoutSeconds?: number;
}

export async function runRun(options: RunOptions, f: Factory): Promise<void> {
  const run = await buildRunRequest(options.file, options.params);
  await runRemoteCommand(
    f,
    options.name,
    {
      run,
      restartAfter: options.restart,
      ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
    },
    options,
  );
}
