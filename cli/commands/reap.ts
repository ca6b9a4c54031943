import type { SweepReport } from '../../schemas/types.generated.ts';
import type { Factory } from '../factory.ts';
import { formatSeconds } from '../output.ts';

export interface ReapOptions {
  dryRun: boolean;
  json: boolean;
}

/** Runs one sweep of the reaper now (admins only) and prints what it did, or would do. */
export async function reapRun(options: ReapOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const report = await api.reap({ dryRun: options.dryRun });
  f.io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : reapText(report));
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
