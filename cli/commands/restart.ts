import type { Cluster } from '../../schemas/types.generated.ts';
import { ClusterFailedError, ClusterStateError } from '../errors.ts';
import type { Factory } from '../factory.ts';
import { followCluster, lastEventId } from '../follow.ts';
import { formatSeconds, toJson } from '../output.ts';
import { createProgress } from '../progress.ts';

export interface RestartOptions {
  name: string;
  /** Follow the restart until READY or FAILED (false with --no-wait). */
  wait: boolean;
  json: boolean;
}

/** Restarts a cluster's services and follows it back to READY: exit 0 then, 1 when it ends FAILED. */
export async function restartRun(options: RestartOptions, f: Factory): Promise<void> {
  const { name } = options;
  const startedAt = f.now();
  const api = await f.api();
  const after = options.wait ? await lastEventId(api, name) : undefined;
  const restarting = await api.restartCluster(name);
  if (!options.wait) {
    f.io.stdout.write(options.json ? toJson(restarting) : `${name}\t${restarting.state}\n`);
    f.io.stderr.write(`cluster ${name} is being restarted; watch it with \`bilbo desc ${name}\`\n`);
    return;
  }

  const progress = createProgress({ io: f.io, now: f.now, startedAt });
  let cluster: Cluster;
  try {
    cluster = await followCluster(f, api, name, {
      until: 'READY',
      ...(after === undefined ? {} : { after }),
      onEvent: (event) => progress.update(event.message),
      interruptedMessage: `stopped following: cluster ${name} keeps restarting; watch it with \`bilbo desc ${name}\``,
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
  if (cluster.state !== 'READY') {
    progress.fail();
    throw new ClusterStateError(`cluster ${name} is ${cluster.state}, not READY`);
  }
  progress.succeed();
  f.io.stdout.write(
    options.json ? toJson(cluster) : `restarted cluster ${name} in ${formatSeconds(f.now() - startedAt)}\n`,
  );
}
