import type { Cluster } from '../../../schemas/types.generated.ts';
import { InstanceLostError } from '../errors.ts';
import { dashboardUrlOf } from '../kinds/dask/processes.ts';
import { DASK_PORTS } from '../kinds/dask/user-data.ts';
import type { ClusterStore, Machine, MachineProvider } from '../ports.ts';
import { loadCluster, updateLatest } from './record-updates.ts';

export interface CheckMachinesInput {
  clusterId: string;
  want: 'running' | 'terminated';
}

export interface CheckMachinesOutput {
  done: boolean;
  running: number;
  total: number;
}

export interface CheckMachinesDeps {
  store: ClusterStore;
  provider: MachineProvider;
}

/**
 * One look at the cluster's machines, for the workflow's poll loops: one
 * batched describe of the recorded instances when waiting for them to run
 * (a lost one fails the create at once), or a look-up by the cluster tag
 * when waiting for them all to be gone.
 */
export async function checkMachines(
  input: CheckMachinesInput,
  deps: CheckMachinesDeps,
): Promise<CheckMachinesOutput> {
  return input.want === 'running'
    ? checkRunning(input.clusterId, deps)
    : checkTerminated(input.clusterId, deps);
}

async function checkRunning(clusterId: string, deps: CheckMachinesDeps): Promise<CheckMachinesOutput> {
  const cluster = await loadCluster(deps.store, clusterId);
  const ids = (cluster.instances ?? []).map((instance) => instance.id);
  // Machines this create launched that the provider does not list yet are still coming.
  const machines = (await deps.provider.describe(ids)).filter((machine) => !machine.unseen);
  assertNoneLost(machines);
  const running = machines.filter((machine) => machine.state === 'running').length;
  const done = running === ids.length;
  if (done) {
    await recordPeopleUrls(cluster, machines, deps.store);
    await deps.store.appendEvent(clusterId, {
      step: 'check-running',
      message: `${running} instance${running === 1 ? '' : 's'} running; waiting for the Dask dashboard`,
    });
  }
  return { done, running, total: ids.length };
}

/**
 * Providers learn a machine's public address only once it runs (EC2's
 * RunInstances answer has none): point the URLs people use — the
 * dashboard's and the notebook's — at it, unless the profile asks for
 * private addresses.
 */
async function recordPeopleUrls(cluster: Cluster, machines: Machine[], store: ClusterStore): Promise<void> {
  const addressOf = (machine: Machine) =>
    machine.publicIp && !cluster.plan.privateCommand ? machine.publicIp : machine.privateIp;
  const scheduler = machines.find((machine) => machine.role === 'scheduler');
  const notebook = machines.find((machine) => machine.role === 'notebook');
  const changes: { dashboardUrl?: string; notebookUrl?: string } = {};
  if (scheduler && cluster.dashboardUrl) {
    const url = new URL(cluster.dashboardUrl);
    url.hostname = addressOf(scheduler);
    const dashboardUrl = url.href.replace(/\/$/, '');
    if (dashboardUrl !== cluster.dashboardUrl) changes.dashboardUrl = dashboardUrl;
  }
  if (notebook) {
    const notebookUrl = dashboardUrlOf(addressOf(notebook), notebook.ports?.notebook ?? DASK_PORTS.notebook);
    if (notebookUrl !== cluster.notebookUrl) changes.notebookUrl = notebookUrl;
  }
  if (Object.keys(changes).length > 0) await updateLatest(store, cluster.id, () => changes);
}

/** A machine that stopped or vanished before READY fails the create at once. */
export function assertNoneLost(machines: readonly Machine[]): void {
  const lost = machines.find((machine) => ['terminated', 'stopping', 'stopped'].includes(machine.state));
  if (lost) {
    const reason = lost.stateReason ? `: ${lost.stateReason}` : '';
    throw new InstanceLostError(
      `${lost.role} ${lost.id} is ${lost.state} before the cluster was ready${reason}`,
    );
  }
}

async function checkTerminated(clusterId: string, deps: CheckMachinesDeps): Promise<CheckMachinesOutput> {
  const remaining = await deps.provider.findByCluster(clusterId);
  if (remaining.length > 0) {
    // Terminating is idempotent; asking again covers a call that was lost.
    await deps.provider.terminate(remaining.map((machine) => machine.id));
  }
  return { done: remaining.length === 0, running: remaining.length, total: remaining.length };
}
