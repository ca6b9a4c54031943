/**
 * How a command's record follows its invocations: reading what each
 * instance reports, and once every invocation ended (or the command
 * overran its timeout, when it is cancelled) writing its end, once, with
 * each invocation's exit code and output tail. Whoever reads a command
 * settles it: the API's readers, and the create's init step.
 */
import type {
  Cluster,
  ClusterInstance,
  CommandInvocation,
  CommandRecord,
  InvocationState,
} from '../../../schemas/types.generated.ts';
import type { Clock, CommandStore, InvocationReport, OutputOffsets, RemoteCommandRunner } from '../ports.ts';
import { tailOf, wholeCharacters } from './output.ts';

export interface SettleDeps {
  commands: CommandStore;
  remote: RemoteCommandRunner;
  clock: Clock;
}

/** The most output of one stream one read hands out. */
export const OUTPUT_CHUNK_BYTES = 256 * 1024;
/** How long past its timeout a command may still say it runs before bilbo stops it. */
const TIMEOUT_GRACE_MS = 60_000;
const TAIL_BYTES = 4_096;

export const ENDED: readonly InvocationState[] = ['succeeded', 'failed', 'cancelled', 'timed-out', 'lost'];

/** What each instance of the command reports now, from these offsets. */
export async function readReports(
  cluster: Cluster,
  command: CommandRecord,
  offsets: readonly OutputOffsets[],
  deps: Pick<SettleDeps, 'remote'>,
  limitBytes = OUTPUT_CHUNK_BYTES,
): Promise<InvocationReport[]> {
  const instances = instancesOfCommand(cluster, command);
  if (!command.providerCommandId) {
    return instances.map(() => ({
      state: 'pending',
      stdout: new Uint8Array(),
      stderr: new Uint8Array(),
      totalBytes: { stdout: 0, stderr: 0 },
    }));
  }
  const sent = { providerCommandId: command.providerCommandId };
  return Promise.all(
    instances.map((instance, i) => deps.remote.read(sent, instance, offsets[i]!, limitBytes)),
  );
}

/**
 * The record as the reports say it is now: invocation states and exit
 * codes, and once every invocation ended (or the command overran its
 * timeout, when it is cancelled), its end, written once. `wroteEnd` says
 * whether this call wrote it; another reader may have.
 */
export async function settleCommand(
  cluster: Cluster,
  command: CommandRecord,
  reports: readonly InvocationReport[],
  deps: SettleDeps,
): Promise<{ command: CommandRecord; wroteEnd: boolean }> {
  const invocations = command.invocations.map((invocation, i) => withReport(invocation, reports[i]!));
  const allEnded = invocations.every((invocation) => ENDED.includes(invocation.state));
  const overdue =
    deps.clock.now().getTime() >
    Date.parse(command.createdAt) + command.timeoutSeconds * 1000 + TIMEOUT_GRACE_MS;
  if (!allEnded && !overdue) {
    const changed = invocations.some((invocation, i) => invocation.state !== command.invocations[i]!.state);
    return { command: changed ? { ...command, invocations } : command, wroteEnd: false };
  }
  if (!allEnded && command.providerCommandId) {
    await deps.remote.cancel(
      { providerCommandId: command.providerCommandId },
      instancesOfCommand(cluster, command),
    );
  }
  const tails = await Promise.all(
    instancesOfCommand(cluster, command).map((instance, i) =>
      tailOfInvocation(command, instance, reports[i]!, deps),
    ),
  );
  const final = finalState(invocations, allEnded);
  const exitCode =
    invocations.find((invocation) => (invocation.exitCode ?? 0) !== 0)?.exitCode ??
    (final === 'SUCCEEDED' ? 0 : undefined);
  const endedCommand: CommandRecord = {
    ...command,
    state: final,
    endedAt: deps.clock.now().toISOString(),
    ...(exitCode === undefined ? {} : { exitCode }),
    ...(allEnded ? {} : { reason: `still running ${command.timeoutSeconds} s after it started: stopped` }),
    invocations: invocations.map((invocation, i) => ({
      ...invocation,
      ...(ENDED.includes(invocation.state) ? {} : { state: 'timed-out' as const }),
      ...(tails[i] ? { outputTail: tails[i] } : {}),
    })),
  };
  if (await deps.commands.updateCommand(endedCommand)) return { command: endedCommand, wroteEnd: true };
  const stored = await deps.commands.getCommand(cluster.id, command.id);
  return { command: stored ?? endedCommand, wroteEnd: false };
}

/** The command ended as `state` without its instances' say: those still running end as `invocationState`. */
export function endedCommand(
  command: CommandRecord,
  state: CommandRecord['state'],
  clock: Clock,
  how: { reason: string; invocationState: InvocationState },
): CommandRecord {
  return {
    ...command,
    state,
    endedAt: clock.now().toISOString(),
    reason: how.reason,
    invocations: command.invocations.map((invocation) =>
      ENDED.includes(invocation.state) ? invocation : { ...invocation, state: how.invocationState },
    ),
  };
}

/** The command's instances as the cluster records them, in the order of its invocations. */
export function instancesOfCommand(cluster: Cluster, command: CommandRecord): ClusterInstance[] {
  const byId = new Map((cluster.instances ?? []).map((instance) => [instance.id, instance]));
  return command.invocations.map(
    (invocation) =>
      byId.get(invocation.instanceId) ?? {
        id: invocation.instanceId,
        role: invocation.role,
        index: invocation.index,
      },
  );
}

function withReport(invocation: CommandInvocation, report: InvocationReport): CommandInvocation {
  return {
    ...invocation,
    state: report.state,
    ...(report.exitCode === undefined ? {} : { exitCode: report.exitCode }),
    ...(report.signal ? { signal: report.signal } : {}),
    ...(report.truncated ? { truncated: true } : {}),
  };
}

function finalState(invocations: readonly CommandInvocation[], allEnded: boolean): CommandRecord['state'] {
  if (!allEnded || invocations.some((invocation) => invocation.state === 'timed-out')) return 'TIMED_OUT';
  if (invocations.some((invocation) => invocation.state === 'cancelled')) return 'CANCELLED';
  return invocations.every((invocation) => invocation.state === 'succeeded') ? 'SUCCEEDED' : 'FAILED';
}

async function tailOfInvocation(
  command: CommandRecord,
  instance: ClusterInstance,
  report: InvocationReport,
  deps: Pick<SettleDeps, 'remote'>,
): Promise<string> {
  if (!command.providerCommandId) return report.reason ?? '';
  const from = {
    stdout: Math.max(0, report.totalBytes.stdout - TAIL_BYTES),
    stderr: Math.max(0, report.totalBytes.stderr - TAIL_BYTES),
  };
  const last = await deps.remote.read(
    { providerCommandId: command.providerCommandId },
    instance,
    from,
    TAIL_BYTES,
  );
  const text = [
    wholeCharacters(last.stdout, true).text,
    wholeCharacters(last.stderr, true).text,
    report.reason ?? '',
  ]
    .map((part) => part.replace(/\n$/, ''))
    .filter((part) => part !== '')
    .join('\n');
  return tailOf(text);
}
