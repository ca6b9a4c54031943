/**
 * A Dask cluster's addresses and URLs: the one place they are made, from
 * its instances and the network they are seen on.
 */
import type { ClusterInstance } from '../../../../schemas/types.generated.ts';
import { addressOn, type EndpointFields, type Network, portOf, urlHost } from '../kind.ts';
import { DASK_PORTS } from './ports.ts';

/** `tcp://host:port`, with IPv6 hosts in brackets. */
export function schedulerAddressOf(host: string, port: number): string {
  return `tcp://${urlHost(host)}:${port}`;
}

/** A service's base URL (the dashboard's /health and /json/ pages hang off it). */
export function httpUrlOf(host: string, port: number): string {
  return `http://${urlHost(host)}:${port}`;
}

interface DaskUrls {
  schedulerAddress?: string;
  dashboardUrl?: string;
  notebookUrl?: string;
}

/** The scheduler's address and the dashboard's and notebook's URLs on `network` addresses. */
export function daskUrls(instances: readonly ClusterInstance[], network: Network): DaskUrls {
  const scheduler = instances.find((instance) => instance.role === 'scheduler');
  const notebook = instances.find((instance) => instance.role === 'notebook');
  const urls: DaskUrls = {};
  if (scheduler) {
    urls.schedulerAddress = schedulerAddressOf(
      addressOn(scheduler, network),
      portOf(scheduler, 'scheduler', DASK_PORTS),
    );
    urls.dashboardUrl = httpUrlOf(addressOn(scheduler, network), portOf(scheduler, 'dashboard', DASK_PORTS));
  }
  if (notebook) {
    urls.notebookUrl = httpUrlOf(addressOn(notebook, network), portOf(notebook, 'notebook', DASK_PORTS));
  }
  return urls;
}

/**
 * What the record says: the dashboard and notebook on the addresses people
 * use, the dashboard on the private address too (the readiness probe's view
 * on AWS), and the scheduler on its private address, where the workers and
 * the notebook reach it.
 */
export function daskEndpoints(instances: readonly ClusterInstance[], forPeople: Network): EndpointFields {
  const people = daskUrls(instances, forPeople);
  const inside = daskUrls(instances, 'private');
  return {
    ...(inside.schedulerAddress ? { schedulerAddress: inside.schedulerAddress } : {}),
    ...(people.dashboardUrl ? { dashboardUrl: people.dashboardUrl } : {}),
    ...(inside.dashboardUrl ? { privateDashboardUrl: inside.dashboardUrl } : {}),
    ...(people.notebookUrl ? { notebookUrl: people.notebookUrl } : {}),
  };
}
