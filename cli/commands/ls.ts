import type { Factory } from '../factory.ts';
import { colorState, colors, formatAge, renderTable, toJson, workersColumn } from '../output.ts';

export interface LsOptions {
  /** Include DESTROYED and FAILED clusters. */
  all: boolean;
  json: boolean;
}

export async function lsRun(options: LsOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const clusters = await api.listClusters({ all: options.all });
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
  const c = colors(f.io.stdoutColor);
  const now = f.now();
  const rows = clusters.map((cluster) => [
    cluster.name,
    colorState(cluster.state, c),
    cluster.owner,
    workersColumn(cluster),
    formatAge(cluster.createdAt, now),
    // Only a READY cluster's dashboard answers; an ended one's URL is stale.
    cluster.state === 'READY' && cluster.dashboardUrl ? cluster.dashboardUrl : '-',
  ]);
  f.io.stdout.write(renderTable(['NAME', 'STATE', 'OWNER', 'WORKERS', 'AGE', 'DASHBOARD'], rows, c));
}
