import type { Cluster } from '../../../schemas/types.generated.ts';
import { InstanceLostError } from '../errors.ts';
import { kindOf } from '../kinds/index.ts';
import { networkForPeople } from '../kinds/kind.ts';
import type { ClusterStore, Machine, MachineProvider } from '../ports.ts';
import { loadCluster } from './load-cluster.ts';

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
    await recordEndpoints(cluster, machines, deps.store);
    await deps.store.appendEvent(clusterId, {
      step: 'check-running',
      message: `${running} instance${running === 1 ? '' : 's'} running; waiting for the dashboard`,
    });
  }
  return { done, running, total: ids.length };
}

/**
 * Providers learn a machine's public address only once it runs (EC2's
 * RunInstances answer has none): the cluster's URLs are made again from
 * the running machines, on the addresses people use.
 */
async function recordEndpoints(cluster: Cluster, machines: Machine[], store: ClusterStore): Promise<void> {
  const known = new Map((cluster.instances ?? []).map((instance) => [instance.id, instance]));
  const instances = machines.map((machine) => ({
    ...known.get(machine.id),
    id: machine.id,
    role: machine.role,
    privateIp: machine.privateIp,
    ...(machine.publicIp ? { publicIp: machine.publicIp } : {}),
  }));
  const endpoints = kindOf(cluster.plan.kind).endpoints(instances, networkForPeople(cluster.plan));
  const changes = Object.fromEntries(
    Object.entries(endpoints).filter(([field, value]) => cluster[field as keyof Cluster] !== value),
  );
  if (Object.keys(changes).length > 0) await store.update(cluster.id, { changes });
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
