import { ClusterStateError } from '../errors.ts';
import type { Factory } from '../factory.ts';

export interface DashboardOptions {
  name: string;
  /** Print the URL instead of opening it. */
  url: boolean;
}

export async function dashboardRun(options: DashboardOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const cluster = await api.getCluster(options.name);
  if (cluster.state !== 'READY' || !cluster.dashboardUrl) {
    throw new ClusterStateError(
      `cluster ${cluster.name} has no dashboard to open: it is ${cluster.state}` +
        (cluster.state === 'CREATING' ? ` (wait for READY with \`bilbo desc ${cluster.name}\`)` : ''),
    );
  }
  if (options.url) {
    f.io.stdout.write(`${cluster.dashboardUrl}\n`);
    return;
  }
  f.io.stderr.write(`opening ${cluster.dashboardUrl} in your browser\n`);
  await f.openBrowser(cluster.dashboardUrl);
}
