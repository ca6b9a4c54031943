import type { Factory } from '../factory.ts';
import { type MoveOptions, moveRun } from '../machine-move.ts';
import { formatSeconds } from '../output.ts';

export type ResumeOptions = MoveOptions;

/** Starts a paused cluster's machines and follows it to READY: exit 0 then, 1 when the resume fails. */
export async function resumeRun(options: ResumeOptions, f: Factory): Promise<void> {
  await moveRun(
    {
      verb: 'resume',
      going: 'being resumed',
      ask: (api, name) => api.resumeCluster(name),
      to: 'READY',
      back: 'PAUSED',
      done: (cluster, ms) =>
        `resumed cluster ${cluster.name} in ${formatSeconds(ms)}: dashboard ${cluster.dashboardUrl ?? '-'}\n`,
    },
    options,
    f,
  );
}
