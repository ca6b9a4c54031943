import type { Cluster, ClusterInstance, CommandRecord } from '../../../schemas/types.generated.ts';
import {
  describeInitOutcome,
  type InitCommand,
  initCommandId,
  initCommandsOf,
} from '../commands/init-commands.ts';
import { endedCommand, readReports, type SettleDeps, settleCommand } from '../commands/settle.ts';
import { deadlineOf, pollDelaySeconds } from '../deadlines.ts';
import { InitCommandFailedError } from '../errors.ts';
import type { ClusterStore, RemoteScript, SecretNames } from '../ports.ts';
import { loadCluster } from './load-cluster.ts';

export interface RunInitInput {
  clusterId: string;
  /** The init command to look at first: the last call's answer. @default 0 */
  position?: number;
}

export interface RunInitOutput {
  /** Every init command ended (or was skipped). */
  done: boolean;
  /** The init command still running, for the next call. */
  position: number;
  /** How long the workflow waits before it looks again. */
  waitSeconds: number;
}

export interface RunInitDeps extends SettleDeps {
  store: ClusterStore;
  /** The names setup commands read their secrets by (a notebook's git password). */
  secrets: SecretNames;
}

/** SSM's longest executionTimeout (48 hours); a command's own timeout is the create's deadline. */
const MAX_TIMEOUT_SECONDS = 172_800;

/**
 * One look at the cluster's init commands, for the create's poll loop,
 * after the services answer and before READY: role by role in launch order,
 * each role's commands in order (the kind's setup commands, such as a
 * notebook's git clones, then the profile's init_cmd) on all of its instances, through the
 * remote-command port, each kept as a command record (kind `init`). A
 * command that ended gets an event with its exit code and output tail, and
 * the next one starts at once. A failing command skips the rest of its
 * role's list; under the role's init_fail "fail" it fails the create, under
 * "warn" the next role goes on. Each command may run until the create's
 * deadline; one still running then, or not started by then, fails as a
 * failing command does. Only the create calls this: resume never runs them.
 */
export async function runInit(input: RunInitInput, deps: RunInitDeps): Promise<RunInitOutput> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const inits = initCommandsOf(cluster, deps.secrets);
  let position = input.position ?? 0;
  while (position < inits.length) {
    const init = inits[position]!;
    const command = await follow(cluster, init, deps);
    if (command.state === 'RUNNING') {
      const now = deps.clock.now().getTime();
      const waited = now - Date.parse(command.createdAt);
      return { done: false, position, waitSeconds: pollDelaySeconds(waited, deadlineOf(cluster) - now) };
    }
    const message = describeInitOutcome(init, command);
    await deps.store.appendEvent(cluster.id, { step: `init-${init.role}`, message });
    if (command.state === 'SUCCEEDED') {
      position += 1;
    } else if (init.failure === 'fail') {
      throw new InitCommandFailedError(`${message}; the ${init.role}'s init_fail is "fail"`);
    } else {
      position += init.of - init.index;
    }
  }
  return { done: true, position, waitSeconds: 0 };
}

/** The init command's record as its instances say it is now: started when it has none yet. */
async function follow(cluster: Cluster, init: InitCommand, deps: RunInitDeps): Promise<CommandRecord> {
  const id = initCommandId(cluster, init.position);
  const found = await deps.commands.getCommand(cluster.id, id);
  let command = found ?? (await start(cluster, init, id, deps));
  if (command.state !== 'RUNNING') return command;
  if (found && !found.providerCommandId) {
    // A call that stopped between recording it and sending it: whether it was sent is unknown.
    return endAs(cluster, command, 'FAILED', 'the create lost track of it before it was sent', deps);
  }
  const starts = command.invocations.map(() => ({ stdout: 0, stderr: 0 }));
  const reports = await readReports(cluster, command, starts, deps, 0);
  command = (await settleCommand(cluster, command, reports, deps)).command;
  if (command.state === 'RUNNING' && deps.clock.now().getTime() >= deadlineOf(cluster)) {
    await deps.remote.cancel({ providerCommandId: command.providerCommandId! }, instancesOf(cluster, init));
    const reason = `still running at the create's deadline (ready_timeout ${cluster.plan.readyTimeoutSeconds} s): stopped`;
    return endAs(cluster, command, 'TIMED_OUT', reason, deps);
  }
  return command;
}

/** Records the command, then sends it: it never runs without a record. */
async function start(
  cluster: Cluster,
  init: InitCommand,
  id: string,
  deps: RunInitDeps,
): Promise<CommandRecord> {
  const instances = instancesOf(cluster, init);
  const now = deps.clock.now();
  const remainingSeconds = Math.ceil((deadlineOf(cluster) - now.getTime()) / 1000);
  const record: CommandRecord = {
    id,
    clusterId: cluster.id,
    kind: 'init',
    what: init.what,
    target: init.role,
    requestedBy: cluster.owner,
    state: 'RUNNING',
    createdAt: now.toISOString(),
    timeoutSeconds: Math.min(MAX_TIMEOUT_SECONDS, Math.max(1, remainingSeconds)),
    invocations: instances.map((instance) => ({
      instanceId: instance.id,
      role: instance.role,
      index: instance.index ?? 0,
      state: 'pending',
    })),
  };
  await deps.commands.putCommand(record);
  if (remainingSeconds <= 0) {
    const reason = `not started: the create's ready_timeout (${cluster.plan.readyTimeoutSeconds} s) had passed`;
    return endAs(cluster, record, 'TIMED_OUT', reason, deps);
  }
  const script: RemoteScript = {
    ...init.script,
    timeoutSeconds: record.timeoutSeconds,
    comment: `bilbo ${init.source} on ${cluster.name}`,
  };
  try {
    const sent = await deps.remote.send(id, instances, script);
    const running = { ...record, providerCommandId: sent.providerCommandId };
    await deps.commands.updateCommand(running);
    return running;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return endAs(cluster, record, 'FAILED', `could not be sent: ${why}`, deps);
  }
}

/** Writes the command's end as bilbo saw it; another reader may have written one first. */
async function endAs(
  cluster: Cluster,
  command: CommandRecord,
  state: 'FAILED' | 'TIMED_OUT',
  reason: string,
  deps: RunInitDeps,
): Promise<CommandRecord> {
  const invocationState = state === 'TIMED_OUT' ? 'timed-out' : 'lost';
  const ended = endedCommand(command, state, deps.clock, { reason, invocationState });
  if (await deps.commands.updateCommand(ended)) return ended;
  return (await deps.commands.getCommand(cluster.id, command.id)) ?? ended;
}

function instancesOf(cluster: Cluster, init: InitCommand): ClusterInstance[] {
  return (cluster.instances ?? [])
    .filter((instance) => instance.role === init.role)
    .sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
}
