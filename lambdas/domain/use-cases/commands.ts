/**
 * Commands on a cluster's instances (`bilbo rcmd`, `bilbo run`, bilbo's own
 * checks): started through the remote-command port, kept as records on the
 * cluster, followed by reading their output from a cursor. Whoever reads a
 * command that has ended (or overrun its timeout) writes its end, once.
 */
import type {
  Cluster,
  ClusterInstance,
  CommandKind,
  CommandOutput,
  CommandRecord,
  StartCommandRequest,
} from '../../../schemas/types.generated.ts';
import { type AccessPolicy, assertMayChange, identityOf, isAdmin, type PersonActor } from '../access.ts';
import { formatCursor, parseCursor, wholeCharacters } from '../commands/output.ts';
import { runScript } from '../commands/run-script.ts';
import {
  ENDED,
  endedCommand,
  instancesOfCommand,
  OUTPUT_CHUNK_BYTES,
  readReports,
  settleCommand,
} from '../commands/settle.ts';
import { inTargetOrder, resolveTarget, validTargets } from '../commands/targets.ts';
import { unsavedWorkScript } from '../commands/unsaved-work.ts';
import { ClusterNotReadyError, CommandNotFoundError, NotOwnerError, ValidationError } from '../errors.ts';
import { kindOf } from '../kinds/index.ts';
import type {
  Clock,
  ClusterStore,
  CommandStore,
  InvocationReport,
  RemoteCommandRunner,
  RemoteScript,
} from '../ports.ts';
import { findCluster } from './find-cluster.ts';
import { type RestartClusterDeps, restartCluster } from './restart-cluster.ts';

export interface CommandDeps extends RestartClusterDeps {
  store: ClusterStore;
  commands: CommandStore;
  remote: RemoteCommandRunner;
  clock: Clock;
  access: AccessPolicy;
  newCommandId: () => string;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

export { OUTPUT_CHUNK_BYTES };

/** How often a waiting read looks again. */
const POLL_MS = 200;
const DEFAULT_TIMEOUT_SECONDS = 3_600;

/**
 * Who a command runs as: the profile's `ssh_user` of the targets' roles
 * (the original bilbo's login user; its boot makes it a member of the
 * service user's group, so it can work in the notebook's workdir), or the
 * service user when the profile names none. Targets whose roles log in as
 * different users are refused: one command runs as one user.
 */
function loginUserOf(cluster: Cluster, instances: readonly ClusterInstance[]): string | undefined {
  const users = new Map<string, string | undefined>();
  for (const instance of instances) {
    users.set(
      instance.role,
      cluster.plan.roles.find((plan) => plan.role === instance.role)?.instance.ssh_user,
    );
  }
  const distinct = new Set(users.values());
  if (distinct.size > 1) {
    const who = [...users].map(([role, user]) => `${role}: ${user ?? 'the service user'}`).join(', ');
    throw new ValidationError(
      `target: these instances log in as different users (${who}); run the command on one role at a time`,
      { field: 'target' },
    );
  }
  return [...distinct][0];
}

export async function startCommand(
  clusterName: string,
  request: StartCommandRequest,
  actor: PersonActor,
  deps: CommandDeps,
): Promise<CommandRecord> {
  const cluster = await findCluster(clusterName, deps.store);
  assertMayChange(cluster, actor, 'run commands on', deps.access);
  if (cluster.state !== 'READY') {
    throw new ClusterNotReadyError(
      `cluster ${cluster.name} is ${cluster.state}: commands run only on a READY cluster`,
    );
  }
  const asked = commandOf(cluster, request);
  const role = cluster.plan.roles.find((plan) => plan.role === asked.instances[0]!.role);
  const onlyThatRole = asked.instances.every((instance) => instance.role === role?.role);
  const workdir = role && onlyThatRole ? kindOf(cluster.plan.kind).commandWorkdir(role) : undefined;
  const user = loginUserOf(cluster, asked.instances);
  const script: RemoteScript = {
    ...asked.script,
    ...(workdir ? { workdir } : {}),
    ...(user ? { user } : {}),
    timeoutSeconds: request.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    comment: `bilbo ${asked.kind} on ${cluster.name}`,
  };

  const record: CommandRecord = {
    id: deps.newCommandId(),
    clusterId: cluster.id,
    kind: asked.kind,
    what: asked.what,
    target: asked.target,
    requestedBy: actor.principal,
    state: 'RUNNING',
    createdAt: deps.clock.now().toISOString(),
    timeoutSeconds: script.timeoutSeconds,
    ...(request.restartAfter ? { restartAfter: true } : {}),
    invocations: asked.instances.map((instance) => ({
      instanceId: instance.id,
      role: instance.role,
      index: instance.index ?? 0,
      state: 'pending',
    })),
  };
  // Recorded before it is sent: a command never runs without a record.
  await deps.commands.putCommand(record);
  try {
    const sent = await deps.remote.send(record.id, asked.instances, script);
    const running = { ...record, providerCommandId: sent.providerCommandId };
    await deps.commands.updateCommand(running);
    return running;
  } catch (error) {
    const reason = `could not be sent: ${error instanceof Error ? error.message : String(error)}`;
    await deps.commands.updateCommand(
      endedCommand(record, 'FAILED', deps.clock, { reason, invocationState: 'lost' }),
    );
    throw error;
  }
}

interface AskedCommand {
  kind: CommandKind;
  what: string;
  target: string;
  instances: ClusterInstance[];
  script: Pick<RemoteScript, 'script' | 'files' | 'env'>;
}

function commandOf(cluster: Cluster, request: StartCommandRequest): AskedCommand {
  const given = (['command', 'run', 'check'] as const).filter((key) => request[key] !== undefined);
  if (given.length !== 1) {
    throw new ValidationError(
      `request: give exactly one of command (with target), run or check (got ${given.length === 0 ? 'none' : given.join(' and ')})`,
      { field: given[1] ?? 'command' },
    );
  }
  if (request.command !== undefined) {
    if (request.target === undefined) {
      throw new ValidationError(
        `target: a command needs a target: one of ${validTargets(inTargetOrder(cluster)).join(', ')}, or an address`,
        { field: 'target' },
      );
    }
    return {
      kind: 'rcmd',
      what: request.command,
      target: request.target,
      instances: resolveTarget(cluster, request.target),
      script: { script: request.command },
    };
  }
  if (request.target !== undefined) {
    throw new ValidationError('target: only a command takes a target; run and check choose their instance', {
      field: 'target',
    });
  }
  if (request.run !== undefined) {
    const target = kindOf(cluster.plan.kind).runRoles.find((role) =>
      (cluster.instances ?? []).some((instance) => instance.role === role),
    );
    if (!target)
      throw new ValidationError(`cluster ${cluster.name} has no instance to run ${request.run.file} on`);
    const parameters = Object.entries(request.run.parameters ?? {}).map(
      ([k, v]) => `${k}=${JSON.stringify(v)}`,
    );
    return {
      kind: 'run',
      what: [request.run.file, ...parameters].join(' '),
      target,
      instances: resolveTarget(cluster, target).slice(0, 1),
      script: runScript(request.run),
    };
  }
  const notebooks = (cluster.instances ?? []).filter((instance) => instance.role === 'notebook');
  if (notebooks.length === 0) {
    throw new ValidationError(`check: cluster ${cluster.name} has no notebook, so no repositories to check`, {
      field: 'check',
    });
  }
  return {
    kind: 'check',
    what: `check ${request.check}`,
    target: 'notebook',
    instances: notebooks,
    script: { script: unsavedWorkScript() },
  };
}

/**
 * The command and its output after the cursor; with `waitMs`, waits that
 * long for some output or the end. Only the owner, an admin, or whoever
 * ran it may read a command's output.
 */
export async function readCommand(
  clusterName: string,
  id: string,
  cursor: string | undefined,
  waitMs: number,
  viewer: string,
  deps: CommandDeps,
): Promise<CommandOutput> {
  const cluster = await findCluster(clusterName, deps.store);
  let command = await findCommand(cluster, id, deps.commands);
  assertMayRead(cluster, command, viewer, deps.access);
  let offsets = parseCursor(cursor, command.invocations.length);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = deps.clock.now().getTime() + waitMs;
  const texts = command.invocations.map((invocation) => ({
    instanceId: invocation.instanceId,
    stdout: '',
    stderr: '',
  }));
  for (;;) {
    // Output outlives the command: a reader that falls behind reads the rest after the end.
    const reports = await readReports(cluster, command, offsets, deps);
    let fresh = false;
    offsets = reports.map((report, i) => {
      // A character cut by the chunk's end is left for the next read; one cut by the stream's end stays cut.
      const ended = ENDED.includes(report.state);
      const last = (stream: 'stdout' | 'stderr') =>
        ended && offsets[i]![stream] + report[stream].length >= report.totalBytes[stream];
      const out = wholeCharacters(report.stdout, last('stdout'));
      const err = wholeCharacters(report.stderr, last('stderr'));
      texts[i]!.stdout += out.text;
      texts[i]!.stderr += err.text;
      fresh ||= out.bytes > 0 || err.bytes > 0;
      return { stdout: offsets[i]!.stdout + out.bytes, stderr: offsets[i]!.stderr + err.bytes };
    });
    if (command.state === 'RUNNING') command = await settle(cluster, command, reports, deps);
    if (fresh || command.state !== 'RUNNING' || deps.clock.now().getTime() >= deadline) break;
    await sleep(POLL_MS);
  }
  return {
    command: asSeenBy(cluster, command, viewer, deps.access),
    output: texts,
    next: formatCursor(offsets),
  };
}

export async function cancelCommand(
  clusterName: string,
  id: string,
  actor: PersonActor,
  deps: CommandDeps,
): Promise<CommandRecord> {
  const cluster = await findCluster(clusterName, deps.store);
  assertMayChange(cluster, actor, 'cancel commands on', deps.access);
  const command = await findCommand(cluster, id, deps.commands);
  if (command.state !== 'RUNNING') return command;
  if (command.providerCommandId) {
    await deps.remote.cancel(
      { providerCommandId: command.providerCommandId },
      instancesOfCommand(cluster, command),
    );
  }
  const cancelled = endedCommand(command, 'CANCELLED', deps.clock, {
    reason: `cancelled by ${actor.principal}`,
    invocationState: 'cancelled',
  });
  if (!(await deps.commands.updateCommand(cancelled))) return findCommand(cluster, id, deps.commands);
  if (cancelled.restartAfter) await restartAfter(cluster, cancelled, deps);
  return cancelled;
}

/** The cluster's last commands, newest first; the running ones as their instances say now. */
export async function listCommands(
  clusterName: string,
  viewer: string,
  deps: CommandDeps,
): Promise<CommandRecord[]> {
  const cluster = await findCluster(clusterName, deps.store);
  const commands = await deps.commands.listCommands(cluster.id, { limit: 20 });
  const now = await Promise.all(
    commands.map(async (command) => {
      if (command.state !== 'RUNNING') return command;
      const positions = command.invocations.map(() => ({ stdout: 0, stderr: 0 }));
      return settle(cluster, command, await readReports(cluster, command, positions, deps, 0), deps);
    }),
  );
  return now.map((command) => asSeenBy(cluster, command, viewer, deps.access));
}

/** The record as the reports say it is now; `run -r` restarts the services once, by whoever wrote the end. */
async function settle(
  cluster: Cluster,
  command: CommandRecord,
  reports: readonly InvocationReport[],
  deps: CommandDeps,
): Promise<CommandRecord> {
  const settled = await settleCommand(cluster, command, reports, deps);
  if (settled.wroteEnd && settled.command.restartAfter) await restartAfter(cluster, settled.command, deps);
  return settled.command;
}

/** `run -r`: the cluster's services restart once the command ended, whatever its outcome; once, by whoever wrote the end. */
async function restartAfter(cluster: Cluster, command: CommandRecord, deps: CommandDeps): Promise<void> {
  try {
    await restartCluster(cluster.name, { principal: command.requestedBy }, deps);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    await deps.store.appendEvent(cluster.id, {
      step: 'restart-after-command',
      message: `the restart asked for after ${command.id} could not start: ${why}`,
    });
  }
}

function mayRead(cluster: Cluster, command: CommandRecord, viewer: string, access: AccessPolicy): boolean {
  const identity = identityOf(viewer);
  return (
    identity === identityOf(cluster.owner) ||
    identity === identityOf(command.requestedBy) ||
    isAdmin(viewer, access)
  );
}

function assertMayRead(cluster: Cluster, command: CommandRecord, viewer: string, access: AccessPolicy): void {
  if (!mayRead(cluster, command, viewer, access))
    throw new NotOwnerError(cluster.name, cluster.owner, 'read command output of');
}

/** Others see that a command ran and how it ended, not its output. */
function asSeenBy(
  cluster: Cluster,
  command: CommandRecord,
  viewer: string,
  access: AccessPolicy,
): CommandRecord {
  if (mayRead(cluster, command, viewer, access)) return command;
  return {
    ...command,
    invocations: command.invocations.map(({ outputTail: _, ...invocation }) => invocation),
  };
}

async function findCommand(cluster: Cluster, id: string, commands: CommandStore): Promise<CommandRecord> {
  const command = await commands.getCommand(cluster.id, id);
  if (!command) throw new CommandNotFoundError(cluster.name, id);
  return command;
}
