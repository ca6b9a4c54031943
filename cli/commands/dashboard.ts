import { ClusterStateError } from '../errors.ts';
import type { Factory } from '../factory.ts';
import { openUrlOrPrint } from '../open-url.ts';

export interface DashboardOptions {
  name: string;
  /** Print the URL instead of opening it. */
  url: boolean;
  json: boolean;
}

/** Opens a READY cluster's dashboard with the browser its profile names, else $BROWSER, else the platform's. */
export async function dashboardRun(options: DashboardOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const cluster = await api.getCluster(options.name);
  if (cluster.state !== 'READY' || !cluster.dashboardUrl) {
    throw new ClusterStateError(
      `cluster ${cluster.name} has no dashboard to open: it is ${cluster.state}` +
        (cluster.state === 'CREATING' ? ` (wait for READY with \`bilbo desc ${cluster.name}\`)` : ''),
    );
  }
  await openUrlOrPrint(
    cluster.dashboardUrl,
    {
      urlOnly: options.url,
      json: options.json,
      ...(cluster.plan.webbrowser === undefined ? {} : { webbrowser: cluster.plan.webbrowser }),
    },
    f,
  );
}
