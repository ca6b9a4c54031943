/**
 * `bilbo pause` and `bilbo resume`: ask for the move, then follow the
 * cluster's events until it arrives (exit 0), comes back where it was
 * because the move failed (exit 1, with the step and the reason), or
 * ends FAILED (exit 1).
 */
import type { Cluster, ClusterState } from '../schemas/types.generated.ts';
import type { BilboApi } from './api/client.ts';
import { ClusterFailedError, ClusterStateError } from './errors.ts';
import type { Factory } from './factory.ts';
import { followCluster, lastEventId } from './follow.ts';
import { toJson } from './output.ts';
import { createProgress } from './progress.ts';

export interface MoveOptions {
  name: string;
  /** Follow the move until it ends (false with --no-wait). */
  wait: boolean;
  json: boolean;
}

export interface Move {
  /** `pause`, as the messages say it. */
  verb: string;
  /** `being paused`, while it goes on. */
  going: string;
  ask(api: BilboApi, name: string): Promise<Cluster>;
  /** Where the move goes, and where a failed one brings the cluster back to. */
  to: ClusterState;
  back: ClusterState;
  /** What stdout says once there (without --json). */
  done(cluster: Cluster, elapsedMs: number): string;
}

export async function moveRun(move: Move, options: MoveOptions, f: Factory): Promise<void> {
  const { name } = options;
  const startedAt = f.now();
  const api = await f.api();
  const after = options.wait ? await lastEventId(api, name) : undefined;
  const moving = await move.ask(api, name);
  if (!options.wait) {
    f.io.stdout.write(options.json ? toJson(moving) : `${name}\t${moving.state}\n`);
    f.io.stderr.write(`cluster ${name} is ${move.going}; watch it with \`bilbo desc ${name}\`\n`);
    return;
  }

  const progress = createProgress({ io: f.io, now: f.now, startedAt });
  let cluster: Cluster;
  try {
    cluster = await followCluster(f, api, name, {
      until: [move.to, move.back],
      ...(after === undefined ? {} : { after }),
      onEvent: (event) => progress.update(event.message),
      interruptedMessage: `stopped following: cluster ${name} is still ${move.going}; watch it with \`bilbo desc ${name}\``,
    });
  } catch (error) {
    progress.stop();
    throw error;
  }
  if (cluster.state !== move.to) progress.fail();
  const step = cluster.failure?.step ?? 'unknown';
  const reason = cluster.failure?.message ?? 'no reason recorded';
  if (cluster.state === 'FAILED') throw new ClusterFailedError(name, step, reason);
  if (cluster.state === move.back) {
    throw new ClusterStateError(
      `the ${move.verb} of cluster ${name} failed at step "${step}": ${reason}; it is ${move.back} again`,
    );
  }
  if (cluster.state !== move.to) {
    throw new ClusterStateError(`cluster ${name} is ${cluster.state}, not ${move.to}`);
  }
  progress.succeed();
  f.io.stdout.write(options.json ? toJson(cluster) : move.done(cluster, f.now() - startedAt));
}
