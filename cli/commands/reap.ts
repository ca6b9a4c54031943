import { SWEEP_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import type { Sweep, SweepReport } from '../../schemas/types.generated.ts';
import { abortable } from '../abortable.ts';
import { CancelledError, CommandFailedError } from '../errors.ts';
import type { Factory } from '../factory.ts';
import { formatSeconds } from '../output.ts';
import { createProgress } from '../progress.ts';

export interface ReapOptions {
  dryRun: boolean;
  json: boolean;
}

/** How long `bilbo reap` waits for the report: the sweep workflow's own timeout, and a margin. */
export const REAP_WAIT_MS = (SWEEP_TIMEOUT_SECONDS + 60) * 1000;
/** Between two looks at the sweep: soon at first (a small deployment sweeps in a second), then less often. */
const FIRST_LOOK_MS = 500;
const MAX_LOOK_MS = 5000;

/** Runs one sweep of the reaper now (admins only), waits for it, and prints what it did, or would do. */
export async function reapRun(options: ReapOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const startedAt = f.now();
  const started = await api.reap({ dryRun: options.dryRun });
  const progress = createProgress({ io: f.io, now: f.now, startedAt });
  progress.update(`sweeping${options.dryRun ? ' (dry run)' : ''}: ${started.id}`);
  let sweep: Sweep;
  try {
    sweep = await untilEnded(started, f, (id) => api.getSweep(id));
  } catch (error) {
    progress.stop();
    throw error;
  }
  if (sweep.status !== 'SUCCEEDED' || !sweep.report) {
    progress.fail();
    throw new CommandFailedError(
      `sweep ${sweep.id} ended ${sweep.status}${sweep.error ? `: ${sweep.error}` : ''}; the next sweep tries again`,
    );
  }
  progress.succeed();
  f.io.stdout.write(options.json ? `${JSON.stringify(sweep.report, null, 2)}\n` : reapText(sweep.report));
}

/** Looks at the sweep until it ended, within REAP_WAIT_MS; Ctrl-C stops the wait, not the sweep. */
async function untilEnded(
  sweep: Sweep,
  f: Pick<Factory, 'now' | 'sleep' | 'onInterrupt'>,
  look: (id: string) => Promise<Sweep>,
): Promise<Sweep> {
  const abort = new AbortController();
  const dispose = f.onInterrupt(() => abort.abort());
  const goesOn = `the sweep ${sweep.id} goes on: what it does is an event on each cluster it acts on`;
  const guard = <T>(promise: Promise<T>) =>
    abortable(promise, abort.signal, () => new CancelledError(`stopped waiting; ${goesOn}`));
  const deadline = f.now() + REAP_WAIT_MS;
  try {
    let current = sweep;
    for (let wait = FIRST_LOOK_MS; current.status === 'RUNNING'; wait = Math.min(wait * 2, MAX_LOOK_MS)) {
      if (f.now() >= deadline) {
        throw new CommandFailedError(`no report after ${formatSeconds(REAP_WAIT_MS)}; ${goesOn}`);
      }
      await guard(f.sleep(wait, abort.signal));
      current = await guard(look(sweep.id));
    }
    return current;
  } finally {
    dispose();
  }
}

const VERBS: Record<SweepReport['actions'][number]['action'], [string, string]> = {
  destroy: ['destroyed', 'would destroy'],
  pause: ['paused', 'would pause'],
  fail: ['settled', 'would settle'],
  remove: ['removed an orphan of', 'would remove an orphan of'],
  error: ['could not act on', 'could not act on'],
};

export function reapText(report: SweepReport): string {
  const lines = report.actions.map((action) => {
    const [done, would] = VERBS[action.action];
    return `${report.dryRun ? would : done} ${action.cluster}: ${action.reason}\n`;
  });
  if (report.actionsNotListed) {
    lines.push(`… and ${report.actionsNotListed} more (each is an event on its cluster)\n`);
  }
  const counts = [
    `${report.checked} checked`,
    `${report.idle} idle`,
    `${report.destroyed} destroyed`,
    `${report.paused} paused`,
    `${report.failed} settled`,
    `${report.unknown} unknown`,
    `${report.orphansRemoved} orphans removed`,
    ...(report.errors > 0 ? [`${report.errors} errors`] : []),
  ].join(', ');
  const head = report.dryRun ? 'dry run, nothing changed: ' : '';
  return `${lines.join('')}${head}${counts} in ${formatSeconds(report.durationMs)}\n`;
}
