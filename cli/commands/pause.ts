import { describeVolumes } from '../../lambdas/domain/volumes.ts';
import type { Factory } from '../factory.ts';
import { type MoveOptions, moveRun } from '../machine-move.ts';
import { formatSeconds } from '../output.ts';

export type PauseOptions = MoveOptions;

/** Stops every machine of a cluster and follows it to PAUSED: exit 0 then, 1 when the pause fails. */
export async function pauseRun(options: PauseOptions, f: Factory): Promise<void> {
  await moveRun(
    {
      verb: 'pause',
      going: 'being paused',
      ask: (api, name) => api.pauseCluster(name),
      to: 'PAUSED',
      back: 'READY',
      done: (cluster, ms) =>
        `paused cluster ${cluster.name} in ${formatSeconds(ms)}; its volumes still cost: ${describeVolumes(cluster.plan)}\n`,
    },
    options,
    f,
  );
}
