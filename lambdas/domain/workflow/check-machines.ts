import type { Cluster } from '../../../schemas/types.generated.ts';
import { deadlineOf, pollDelaySeconds } from '../deadlines.ts';
import { DeadlineExceededError, InstanceLostError, ReadyTimeoutError } from '../errors.ts';
import { kindOf } from '../kinds/index.ts';
import { networkForPeople } from '../kinds/kind.ts';
import { roleInstancesOf } from '../machines.ts';
import type {
  Clock,
  ClusterStore,
  Machine,
  MachineProvider,
  RecordChanges,
  RemoteCommandRunner,
} from '../ports.ts';
import { loadCluster } from './load-cluster.ts';

export interface CheckMachinesInput {
  clusterId: string;
  want: 'running' | 'stopped' | 'terminated';
  /** When the wait began (a destroy's request). @default the cluster's creation */
  since?: string;
  /**
   * The machines were stopped and have been asked to start (a resume): one
   * still stopped is asked again rather than lost. Only with `want: 'running'`.
   */
  starting?: boolean;
}

export interface CheckMachinesOutput {
  done: boolean;
  running: number;
  total: number;
  /** How long the workflow waits before it looks again. */
  waitSeconds: number;
}

export interface CheckMachinesDeps {
  store: ClusterStore;
  provider: MachineProvider;
  /** Whether the machines can take commands yet: READY waits for it, so the first `rcmd` works. */
  remote: Pick<RemoteCommandRunner, 'reachable'>;
  clock: Clock;
}

/**
 * One look at the cluster's machines, for the workflow's poll loops: one
 * batched describe of the recorded instances when waiting for them to run
 * (a lost one fails the create at once), or a look-up by the cluster tag
 * when waiting for them all to be gone. Past the cluster's deadline it
 * gives up, naming what it still sees, and the workflow compensates.
 */
export async function checkMachines(
  input: CheckMachinesInput,
  deps: CheckMachinesDeps,
): Promise<CheckMachinesOutput> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const since = Date.parse(input.since ?? cluster.createdAt);
  const look = LOOKS[input.want];
  const { done, running, total } = await look(cluster, since, deps, input);
  const now = deps.clock.now().getTime();
  const waitSeconds = pollDelaySeconds(now - since, deadlineOf(cluster) - now);
  return { done, running, total, waitSeconds };
}

type Look = Omit<CheckMachinesOutput, 'waitSeconds'>;
type Looker = (
  cluster: Cluster,
  since: number,
  deps: CheckMachinesDeps,
  input: CheckMachinesInput,
) => Promise<Look>;

async function checkRunning(
  cluster: Cluster,
  _since: number,
  deps: CheckMachinesDeps,
  input: CheckMachinesInput,
): Promise<Look> {
  const clusterId = cluster.id;
  const ids = (cluster.instances ?? []).map((instance) => instance.id);
  // Machines this create launched that the provider does not list yet are still coming.
  const machines = (await deps.provider.describe(ids)).filter((machine) => !machine.unseen);
  if (input.starting) {
    const stopped = machines.filter((machine) => machine.state === 'stopped');
    // Starting is idempotent; asking again covers a lost call and a listing that lags.
    if (stopped.length > 0) await deps.provider.start(stopped.map((machine) => machine.id));
    assertNoneLost(machines.filter((machine) => !['stopping', 'stopped'].includes(machine.state)));
  } else {
    assertNoneLost(machines);
  }
  const running = machines.filter((machine) => machine.state === 'running').length;
  const allRunning = running === ids.length;
  const unreachable = allRunning ? await notReachable(cluster, deps) : [];
  const done = allRunning && unreachable.length === 0;
  if (done) {
    await recordEndpoints(cluster, machines, deps.store);
    await deps.store.appendEvent(clusterId, {
      step: 'check-running',
      message: `${running} instance${running === 1 ? '' : 's'} running; waiting for the dashboard`,
    });
  } else if (deps.clock.now().getTime() >= deadlineOf(cluster) && allRunning) {
    throw new ReadyTimeoutError(
      `${unreachable.length} of ${ids.length} instances ran but could not take commands within ready_timeout (${cluster.plan.readyTimeoutSeconds} s): ${unreachable.join(', ')}; on EC2 their SSM agent did not register (check the image has it, and the subnet reaches SSM)`,
    );
  } else if (deps.clock.now().getTime() >= deadlineOf(cluster)) {
    const waiting = machines.filter((machine) => machine.state !== 'running');
    throw new ReadyTimeoutError(
      `${ids.length - running} of ${ids.length} instances were not running within ready_timeout (${cluster.plan.readyTimeoutSeconds} s)${still(waiting, ids.length - machines.length)}; raise ready_timeout in the profile if the machines need longer to start`,
    );
  }
  return { done, running, total: ids.length };
}

async function notReachable(cluster: Cluster, deps: CheckMachinesDeps): Promise<string[]> {
  const instances = cluster.instances ?? [];
  const reachable = new Set(await deps.remote.reachable(instances));
  return instances.map((instance) => instance.id).filter((id) => !reachable.has(id));
}

/** `: i-1 pending, i-2 pending` (and the ones the provider does not list yet). */
function still(machines: readonly Machine[], unlisted = 0): string {
  const seen = machines.map((machine) => `${machine.id} ${machine.state}`);
  if (unlisted > 0) seen.push(`${unlisted} not listed by the provider yet`);
  return seen.length > 0 ? `: ${seen.join(', ')}` : '';
}

/**
 * Providers learn a machine's public address only once it runs (EC2's
 * RunInstances answer has none): the instances are recorded again with the
 * addresses and state the provider gives now, and the cluster's URLs are
 * made again from them, on the addresses people use.
 */
async function recordEndpoints(cluster: Cluster, machines: Machine[], store: ClusterStore): Promise<void> {
  const described = new Map(machines.map((machine) => [machine.id, machine]));
  const recorded = cluster.instances ?? [];
  const instances = recorded.map((instance) => {
    const machine = described.get(instance.id);
    if (!machine) return instance;
    const { publicIp: _, ...rest } = instance;
    return {
      ...rest,
      privateIp: machine.privateIp,
      ...(machine.publicIp ? { publicIp: machine.publicIp } : {}),
      state: machine.state,
    };
  });
  const endpoints = kindOf(cluster.plan.kind).endpoints(instances, networkForPeople(cluster.plan));
  const changes: RecordChanges = Object.fromEntries(
    Object.entries(endpoints).filter(([field, value]) => cluster[field as keyof Cluster] !== value),
  );
  if (JSON.stringify(instances) !== JSON.stringify(recorded)) {
    changes.roleInstances = roleInstancesOf(instances);
  }
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

/**
 * A pause's look: one batched describe of the recorded instances. A machine
 * gone (terminated, or no longer listed) fails the pause at once; one still
 * running is asked to stop again (idempotent: it covers a lost call).
 */
async function checkStopped(cluster: Cluster, since: number, deps: CheckMachinesDeps): Promise<Look> {
  const ids = (cluster.instances ?? []).map((instance) => instance.id);
  const machines = await deps.provider.describe(ids);
  const lost = machines.find((machine) => machine.state === 'terminated');
  if (lost) {
    const reason = lost.stateReason ? `: ${lost.stateReason}` : '';
    throw new InstanceLostError(`${lost.role} ${lost.id} is terminated; it cannot be paused${reason}`);
  }
  const stopped = machines.filter((machine) => machine.state === 'stopped').length;
  if (stopped < ids.length) {
    const deadline = deadlineOf(cluster);
    if (deps.clock.now().getTime() >= deadline) {
      const waiting = machines.filter((machine) => machine.state !== 'stopped');
      throw new DeadlineExceededError(
        `${ids.length - stopped} of ${ids.length} instances did not stop within ${Math.round((deadline - since) / 1000)} s${still(waiting)}`,
      );
    }
    const running = machines.filter((machine) => machine.state === 'running').map((machine) => machine.id);
    if (running.length > 0) await deps.provider.stop(running);
  }
  return { done: stopped === ids.length, running: ids.length - stopped, total: ids.length };
}

async function checkTerminated(cluster: Cluster, since: number, deps: CheckMachinesDeps): Promise<Look> {
  const remaining = await deps.provider.findByCluster(cluster.id);
  if (remaining.length > 0) {
    const deadline = deadlineOf(cluster);
    if (deps.clock.now().getTime() >= deadline) {
      throw new DeadlineExceededError(
        `could not confirm within ${Math.round((deadline - since) / 1000)} s that every instance is terminated; still seen${still(remaining)}`,
      );
    }
    // Terminating is idempotent; asking again covers a call that was lost.
    await deps.provider.terminate(remaining.map((machine) => machine.id));
  }
  return { done: remaining.length === 0, running: remaining.length, total: remaining.length };
}

const LOOKS: Readonly<Record<CheckMachinesInput['want'], Looker>> = {
  running: checkRunning,
  stopped: checkStopped,
  terminated: checkTerminated,
};
