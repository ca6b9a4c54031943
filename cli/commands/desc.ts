import { isEnded } from '../../lambdas/domain/lifecycle.ts';
import type { Cluster, ClusterEvent, CommandRecord } from '../../schemas/types.generated.ts';
import type { BilboApi } from '../api/client.ts';
import { ApiRequestError } from '../errors.ts';
import type { Factory } from '../factory.ts';
import { allEvents } from '../follow.ts';
import {
  type Colors,
  colors,
  endReason,
  formatAge,
  pauseReason,
  renderFields,
  renderTable,
  shorten,
  stateColumn,
  toJson,
  workersColumn,
} from '../output.ts';
import { redactSecrets } from '../redact.ts';

export interface DescOptions {
  name: string;
  /** The whole record, every event and the newest commands, as JSON. */
  detail: boolean;
  json: boolean;
}

/** How many of the newest commands desc shows. */
export const RECENT_COMMANDS = 5;
/** How many of the newest events the text shows; -d gives them all. */
export const RECENT_EVENTS = 10;

/**
 * A cluster: its fields, each instance, the newest events and commands;
 * with -d (or --json) the record as JSON. Whatever is printed has its
 * secrets redacted, and the API's text arrives with control characters
 * written out (cli/api/client.ts).
 */
export async function descRun(options: DescOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const fetched = await api.getCluster(options.name);
  const [allOfThem, recent] = await Promise.all([
    allEvents(api, fetched.name),
    recentCommands(api, fetched.name, f),
  ]);
  const { cluster, events, commands } = redactSecrets({
    cluster: fetched,
    events: allOfThem,
    commands: recent,
  });
  if (options.detail || options.json) {
    f.io.stdout.write(
      toJson({
        ...cluster,
        // --json alone is the record and its commands, as scripts have read it.
        ...(options.detail ? { events } : {}),
        ...(commands === undefined ? {} : { commands }),
      }),
    );
    return;
  }
  const c = colors(f.io.stdoutColor);
  const now = f.now();
  f.io.stdout.write(describeCluster(cluster, now, c));
  f.io.stdout.write(describeInstances(cluster, c));
  f.io.stdout.write(describeEvents(events, cluster.name, now, c));
  if (commands && commands.length > 0) f.io.stdout.write(describeCommands(commands, now, c));
}

/** The newest commands; undefined, with a warning, when the API will not list them. */
async function recentCommands(api: BilboApi, name: string, f: Factory): Promise<CommandRecord[] | undefined> {
  try {
    return (await api.listCommands(name)).slice(0, RECENT_COMMANDS);
  } catch (error) {
    if (!(error instanceof ApiRequestError)) throw error;
    f.io.stderr.write(`warning: cannot list the commands of ${name}: ${error.message}\n`);
    return undefined;
  }
}

const WHAT_WIDTH = 40;

/**
 * The newest commands, newest first. Their text arrives with control
 * characters already written out (cli/api/client.ts), so a command's
 * script stays on its row.
 */
export function describeCommands(commands: readonly CommandRecord[], now: number, c: Colors): string {
  return `\n${c.bold('Commands')}\n${renderTable(
    ['ID', 'KIND', 'WHAT', 'TARGET', 'STATE', 'EXIT', 'WHEN'],
    commands.map((command) => [
      command.id,
      command.kind,
      shorten(command.what, WHAT_WIDTH),
      command.target,
      command.state,
      command.exitCode === undefined ? '-' : String(command.exitCode),
      `${formatAge(command.createdAt, now)} ago`,
    ]),
    c,
  )}`;
}

export function describeCluster(cluster: Cluster, now: number, c: Colors): string {
  const plan = cluster.plan;
  const roles = plan?.roles
    ?.map((r) => `${r.role} ${r.count} x ${r.instanceType?.name ?? r.instance?.ec2type ?? '?'}`)
    .join(', ');
  const ended = isEnded(cluster.state);
  // An ended cluster's URLs name machines that are gone.
  const live = (url: string | undefined) => (ended ? undefined : url);
  return renderFields(
    [
      ['name', cluster.name],
      ['id', cluster.id],
      ['state', stateColumn(cluster, c)],
      ['health', healthLine(cluster)],
      ['checked', checkedLine(cluster, now)],
      ['owner', cluster.owner],
      ['profile', cluster.profileName],
      ['description', cluster.description],
      ['created', `${cluster.createdAt} (${formatAge(cluster.createdAt, now)} ago)`],
      ['updated', `${cluster.updatedAt} (${formatAge(cluster.updatedAt, now)} ago)`],
      ['ended', endReason(cluster)],
      ['paused', pauseReason(cluster)],
      [
        'idle since',
        cluster.state === 'READY' && cluster.idleSince
          ? `${cluster.idleSince} (${formatAge(cluster.idleSince, now)} ago; idle_timeout ${cluster.plan.idleTimeoutSeconds}s)`
          : undefined,
      ],
      ['scheduler', live(cluster.schedulerAddress)],
      ['dashboard', live(cluster.dashboardUrl)],
      ['notebook', live(cluster.notebookUrl)],
      ['workers', ended ? undefined : `${workersColumn(cluster)} joined`],
      ['roles', roles],
      // Once ended, `ended` says it; a live cluster keeps an earlier failure (a failed restart).
      [
        'failure',
        !ended && cluster.failure ? `${cluster.failure.step}: ${cluster.failure.message}` : undefined,
      ],
    ],
    c,
  );
}

/** A READY cluster's health: `ok`, or `degraded: ` and what it lacks. */
function healthLine(cluster: Cluster): string | undefined {
  const health = cluster.health;
  if (cluster.state !== 'READY' || !health) return undefined;
  return health.status === 'ok' ? 'ok' : `degraded: ${health.reason ?? 'no reason recorded'}`;
}

/** How fresh the health is: when the machines, and when the services, were last looked at. */
function checkedLine(cluster: Cluster, now: number): string | undefined {
  const health = cluster.health;
  if (cluster.state !== 'READY' || !health) return undefined;
  const machines = `instances ${formatAge(health.checkedAt, now)} ago (${health.instancesRunning}/${health.instancesExpected} running)`;
  const services = health.servicesCheckedAt
    ? `services ${formatAge(health.servicesCheckedAt, now)} ago`
    : 'services not since READY';
  return `${machines}, ${services}`;
}

/** Every instance: role, index, id, addresses and the state bilbo last saw. */
export function describeInstances(cluster: Cluster, c: Colors): string {
  const instances = cluster.instances ?? [];
  const heading = `\n${c.bold('Instances')}\n`;
  if (instances.length === 0) return `${heading}none\n`;
  return `${heading}${renderTable(
    ['ROLE', 'INDEX', 'ID', 'PUBLIC IP', 'PRIVATE IP', 'STATE'],
    instances.map((i) => [
      i.role,
      i.index === undefined ? '-' : String(i.index),
      i.id,
      i.publicIp || '-',
      i.privateIp || '-',
      i.state ?? '-',
    ]),
    c,
  )}`;
}

/** The newest events, oldest of them first, and how many came before. */
export function describeEvents(
  events: readonly ClusterEvent[],
  name: string,
  now: number,
  c: Colors,
): string {
  const heading = `\n${c.bold('Events')}\n`;
  if (events.length === 0) return `${heading}none\n`;
  const shown = events.slice(-RECENT_EVENTS);
  const earlier = events.length - shown.length;
  return `${heading}${renderTable(
    ['WHEN', 'STEP', 'MESSAGE'],
    shown.map((e) => [`${formatAge(e.at, now)} ago`, e.step, e.message]),
    c,
  )}${earlier > 0 ? `${earlier} earlier (bilbo desc ${name} -d shows every event)\n` : ''}`;
}
