/**
 * The profile's init_cmd as the create runs it: each role's list (as the
 * profile resolves it), the roles in launch order, each role's list after
 * the kind's setup commands for it (a notebook's git clones), every command
 * with an id of its own, and what the cluster's events say of each.
 */
import { escapeControlCharacters } from '../../../schemas/printable.ts';
import type {
  Cluster,
  CommandInvocation,
  CommandRecord,
  ResolvedInstance,
  RoleName,
} from '../../../schemas/types.generated.ts';
import { kindOf } from '../kinds/index.ts';
import type { RemoteScript, SecretNames } from '../ports.ts';

export type InitFailure = NonNullable<ResolvedInstance['init_fail']>;

/** The user init commands run as: what they always meant, and what installing packages needs. */
const INIT_USER = 'root';

/** What a failing init command does when the profile does not say. */
export const DEFAULT_INIT_FAILURE: InitFailure = 'warn';

/** How many characters of a command's output an event keeps. */
const EVENT_TAIL_CHARS = 300;

export function initFailureOf(instance: Pick<ResolvedInstance, 'init_fail'>): InitFailure {
  return instance.init_fail ?? DEFAULT_INIT_FAILURE;
}

/** One command of one role's init_cmd, or one of the kind's setup commands. */
export interface InitCommand {
  role: RoleName;
  /** Whose it is: the profile's init_cmd, or the kind's setup. */
  source: 'init_cmd' | 'setup';
  /** Its place in its list, and the list's length (a setup command is a list of its own). */
  index: number;
  of: number;
  /** What its record names it: the command itself, or the setup's description. */
  what: string;
  script: Omit<RemoteScript, 'timeoutSeconds' | 'comment'>;
  failure: InitFailure;
  /** Its place among all of the cluster's init commands: the create's step counts them by it. */
  position: number;
}

/**
 * Every init command of the cluster, role by role in launch order (the
 * kind's primary role first), each role's setup commands before its
 * init_cmd. A failing setup command skips no other command, and the role's
 * init_fail says whether it fails the create, as for its init_cmd.
 */
export function initCommandsOf(cluster: Pick<Cluster, 'id' | 'plan'>, secrets: SecretNames): InitCommand[] {
  const { plan } = cluster;
  const kind = kindOf(plan.kind);
  const primary = kind.primaryRole(plan);
  const roles = [
    ...plan.roles.filter((role) => role.role === primary),
    ...plan.roles.filter((role) => role.role !== primary),
  ];
  let position = 0;
  return roles.flatMap((rolePlan) => {
    const { role, instance } = rolePlan;
    const failure = initFailureOf(instance);
    const setup = kind.setupCommands(cluster.id, rolePlan, secrets).map(
      ({ what, script }): InitCommand => ({
        role,
        source: 'setup',
        index: 0,
        of: 1,
        what,
        script,
        failure,
        position: position++,
      }),
    );
    const own = instance.init_cmd.map(
      (command, index): InitCommand => ({
        role,
        source: 'init_cmd',
        index,
        of: instance.init_cmd.length,
        what: command,
        script: { script: command, user: INIT_USER },
        failure,
        position: position++,
      }),
    );
    return [...setup, ...own];
  });
}

/**
 * The command record's id of the init command at `position`: made from the
 * cluster's creation time and the position, so a retried step finds the
 * command it already started instead of running it twice. Init commands run
 * before any other command can, so their ids sort before the others'.
 */
export function initCommandId(cluster: Pick<Cluster, 'createdAt'>, position: number): string {
  const ms = Date.parse(cluster.createdAt).toString(16).padStart(12, '0');
  return `cmd-${ms}${position.toString(16).padStart(4, '0')}`;
}

/** The event of an ended init command: its exit code where it ran, why not where it did not, its output's tail. */
export function describeInitOutcome(init: InitCommand, command: CommandRecord): string {
  const head = init.source === 'setup' ? escapeControlCharacters(init.what) : `init_cmd ${quoted(init.what)}`;
  const all = command.invocations;
  if (command.state === 'SUCCEEDED') {
    const on = all.length === 1 ? `the ${init.role}` : `${all.length} ${init.role}s`;
    return `${head} exited 0 on ${on}${tailPart(all[0])}`;
  }
  const failed = all.filter((invocation) => invocation.state !== 'succeeded');
  const first = failed[0];
  const where = first ? ` on ${init.role} ${first.instanceId}` : '';
  const count = all.length > 1 ? ` (${failed.length} of ${all.length} ${init.role}s)` : '';
  const skipped = init.of - init.index - 1;
  const rest =
    skipped > 0 ? `; the ${init.role}'s ${skipped} next init command${skipped === 1 ? '' : 's'} not run` : '';
  const reason = command.reason && !first?.outputTail?.includes(command.reason) ? `: ${command.reason}` : '';
  return `${head} ${whatHappened(first)}${where}${count}${reason}${tailPart(first)}${rest}`;
}

function whatHappened(invocation: CommandInvocation | undefined): string {
  switch (invocation?.state) {
    case 'failed':
      return invocation.exitCode === undefined ? 'failed' : `exited ${invocation.exitCode}`;
    case 'timed-out':
      return 'did not end in time';
    case 'cancelled':
      return 'was cancelled';
    case 'lost':
      return 'did not run';
    default:
      return 'did not end';
  }
}

function tailPart(invocation: CommandInvocation | undefined): string {
  const tail = eventTail(invocation?.outputTail ?? '');
  return tail === '' ? '' : `: ${tail}`;
}

/**
 * The end of some output on one line an event can hold: terminal escape
 * sequences dropped, lines joined with ` | `, at most a few hundred
 * characters, any other control character written out.
 */
export function eventTail(text: string): string {
  const plain = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is removed
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g, '')
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' | ');
  const cut = plain.length > EVENT_TAIL_CHARS ? `…${plain.slice(-EVENT_TAIL_CHARS)}` : plain;
  return escapeControlCharacters(cut);
}

function quoted(command: string): string {
  return escapeControlCharacters(JSON.stringify(command));
}
