import { describeVolumes } from '../../lambdas/domain/volumes.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import type { Factory } from '../factory.ts';
import {
  colors,
  degradedReason,
  endReason,
  formatAge,
  instancesColumn,
  pauseReason,
  renderTable,
  shorten,
  stateColumn,
  toJson,
  workersColumn,
} from '../output.ts';
import { redactSecrets } from '../redact.ts';

export interface LsOptions {
  /** Include DESTROYED and FAILED clusters. */
  all: boolean;
  json: boolean;
}

/** A description or a reason longer than this is cut, so a row stays on one line. */
export const DESCRIPTION_WIDTH = 40;
export const REASON_WIDTH = 80;

/**
 * The clusters, newest first. The API's text arrives with control
 * characters written out (cli/api/client.ts), and secrets redacted here.
 */
export async function lsRun(options: LsOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const clusters = newestFirst(redactSecrets(await api.listClusters({ all: options.all })));
  if (options.json) {
    f.io.stdout.write(toJson(clusters));
    return;
  }
  if (clusters.length === 0) {
    f.io.stderr.write(
      options.all
        ? 'no clusters\n'
        : 'no live clusters (bilbo ls -a also shows ended ones; bilbo create PROFILE makes one)\n',
    );
    return;
  }
  f.io.stdout.write(renderClusters(clusters, f.now(), colors(f.io.stdoutColor)));
}

/** By creation time, the newest first; the API's order among equals. */
export function newestFirst(clusters: readonly Cluster[]): Cluster[] {
  const at = (cluster: Cluster) => Date.parse(cluster.createdAt) || 0;
  return [...clusters].sort((a, b) => at(b) - at(a));
}

function renderClusters(clusters: readonly Cluster[], now: number, c: ReturnType<typeof colors>): string {
  const reasons = clusters.map(
    (cluster) => endReason(cluster) ?? pauseReason(cluster) ?? degradedReason(cluster),
  );
  // The column only when some cluster ended (ls -a), was paused, or is degraded.
  const withReasons = reasons.some((reason) => reason !== undefined);
  // What a paused cluster still costs: its volumes. The column only when some cluster is paused.
  const costs = clusters.map((cluster) =>
    cluster.state === 'PAUSED' ? `volumes ${describeVolumes(cluster.plan)}` : undefined,
  );
  const withCosts = costs.some((cost) => cost !== undefined);
  const headers = ['NAME', 'STATE', 'OWNER', 'AGE', 'INSTANCES', 'WORKERS', 'DESCRIPTION'];
  const rows = clusters.map((cluster, n) => [
    cluster.name,
    stateColumn(cluster, c),
    cluster.owner,
    formatAge(cluster.createdAt, now),
    instancesColumn(cluster),
    workersColumn(cluster),
    cluster.description ? shorten(cluster.description, DESCRIPTION_WIDTH) : '-',
    ...(withCosts ? [costs[n] ?? '-'] : []),
    ...(withReasons ? [shorten(reasons[n] ?? '-', REASON_WIDTH)] : []),
  ]);
  return renderTable(
    [...headers, ...(withCosts ? ['PAUSED, STILL COSTS'] : []), ...(withReasons ? ['REASON'] : [])],
    rows,
    c,
  );
}
