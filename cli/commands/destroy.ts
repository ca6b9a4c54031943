import type { Cluster } from '../../schemas/types.generated.ts';
import { CancelledError, ClusterFailedError, ClusterStateError, UsageError } from '../errors.ts';
import type { Factory, IOStreams } from '../factory.ts';
import { followCluster, lastEventId } from '../follow.ts';
import { formatSeconds, toJson } from '../output.ts';
import { createProgress } from '../progress.ts';

export interface DestroyOptions {
  name: string;
  /** Do not ask; required when not on a terminal. */
  force: boolean;
  /** Follow the destruction until DESTROYED or FAILED (false with --no-wait). */
  wait: boolean;
  json: boolean;
  /** Only when the cluster's last command FAILED or TIMED_OUT (--if-failed, destroyfailed). */
  ifFailed?: boolean;
}

/** A question can be asked only when both the keyboard and the prompt's stream are a terminal. */
export function canPrompt(io: IOStreams): boolean {
  return io.isStdinTTY && io.isStderrTTY;
}

export async function destroyRun(options: DestroyOptions, f: Factory): Promise<void> {
  const { name } = options;
  if (!options.force && !canPrompt(f.io)) {
    throw new UsageError('destroy needs -f (--force) when not run from a terminal');
  }
  const startedAt = f.now();
  const api = await f.api();
  const current = await api.getCluster(name);
  if (current.state === 'DESTROYED') {
    f.io.stderr.write(`cluster ${name} is already destroyed\n`);
    if (options.json) f.io.stdout.write(toJson(current));
    return;
  }
  if (!options.force && !(await f.prompter.confirm(`Destroy cluster ${name}?`))) {
    throw new CancelledError(`cluster ${name} was not destroyed`);
  }

  const after = options.wait ? await lastEventId(api, name) : undefined;
  const destroying = await api.destroyCluster(name);
  if (!options.wait) {
    f.io.stdout.write(options.json ? toJson(destroying) : `${name}\t${destroying.state}\n`);
    f.io.stderr.write(`cluster ${name} is being destroyed; watch it with \`bilbo desc ${name}\`\n`);
    return;
  }

  const progress = createProgress({ io: f.io, now: f.now, startedAt });
  let cluster: Cluster;
  try {
    cluster = await followCluster(f, api, name, {
      until: 'DESTROYED',
      ...(after === undefined ? {} : { after }),
      onEvent: (event) => progress.update(event.message),
      interruptedMessage: `stopped following: cluster ${name} keeps being destroyed; watch it with \`bilbo desc ${name}\``,
    });
  } catch (error) {
    progress.stop();
    throw error;
  }
  if (cluster.state === 'FAILED') {
    progress.fail();
    throw new ClusterFailedError(
      name,
      cluster.failure?.step ?? 'unknown',
      cluster.failure?.message ?? 'no reason recorded',
    );
  }
  if (cluster.state !== 'DESTROYED') {
    progress.fail();
    throw new ClusterStateError(`cluster ${name} is ${cluster.state}, not DESTROYED`);
  }
  progress.succeed();
  f.io.stdout.write(
    options.json ? toJson(cluster) : `destroyed cluster ${name} in ${formatSeconds(f.now() - startedAt)}\n`,
  );
}
