import type { Cluster, ClusterEvent, CommandRecord } from '../../schemas/types.generated.ts';
import type { BilboApi } from '../api/client.ts';
import { ApiRequestError } from '../errors.ts';
import type { Factory } from '../factory.ts';
import { allEvents } from '../follow.ts';
import {
  type Colors,
  colorState,
  colors,
  formatAge,
  renderFields,
  renderTable,
  toJson,
  workersColumn,
} from '../output.ts';

export interface DescOptions {
  name: string;
  /** Add the instances and the full event history. */
  detail: boolean;
  json: boolean;
}

/** How many of the newest commands desc shows. */
export const RECENT_COMMANDS = 5;

export async function descRun(options: DescOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const cluster = await api.getCluster(options.name);
  const [events, commands] = await Promise.all([
    options.detail ? allEvents(api, cluster.name) : undefined,
    recentCommands(api, cluster.name, f),
  ]);
  if (options.json) {
    f.io.stdout.write(
      toJson({
        ...cluster,
        ...(events === undefined ? {} : { events }),
        ...(commands === undefined ? {} : { commands }),
      }),
    );
    return;
  }
  const c = colors(f.io.stdoutColor);
  f.io.stdout.write(describeCluster(cluster, f.now(), c));
  if (commands && commands.length > 0) f.io.stdout.write(describeCommands(commands, f.now(), c));
  if (events !== undefined) f.io.stdout.write(describeDetail(cluster, events, c));
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

function shorten(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

export function describeCluster(cluster: Cluster, now: number, c: Colors): string {
  const plan = cluster.plan;
  const roles = plan?.roles
    ?.map((r) => `${r.role} ${r.count} x ${r.instanceType?.name ?? r.instance?.ec2type ?? '?'}`)
    .join(', ');
  return renderFields(
    [
      ['name', cluster.name],
      ['id', cluster.id],
      ['state', colorState(cluster.state, c)],
      ['owner', cluster.owner],
      ['profile', cluster.profileName],
      ['created', `${cluster.createdAt} (${formatAge(cluster.createdAt, now)} ago)`],
      ['updated', `${cluster.updatedAt} (${formatAge(cluster.updatedAt, now)} ago)`],
      ['scheduler', cluster.schedulerAddress],
      ['dashboard', cluster.dashboardUrl],
      ['notebook', cluster.notebookUrl],
      ['workers', `${workersColumn(cluster)} joined`],
      ['roles', roles],
      ['failure', cluster.failure && `${cluster.failure.step}: ${cluster.failure.message}`],
    ],
    c,
  );
}

function describeDetail(cluster: Cluster, events: readonly ClusterEvent[], c: Colors): string {
  const instances = cluster.instances ?? [];
  let text = `\n${c.bold('Instances')}\n`;
  text +=
    instances.length === 0
      ? 'none\n'
      : renderTable(
          ['ROLE', 'INDEX', 'ID', 'PRIVATE IP', 'PUBLIC IP'],
          instances.map((i) => [i.role, String(i.index ?? '-'), i.id, i.privateIp ?? '-', i.publicIp ?? '-']),
          c,
        );
  text += `\n${c.bold('Events')}\n`;
  text +=
    events.length === 0
      ? 'none\n'
      : renderTable(
          ['AT', 'STEP', 'MESSAGE'],
          events.map((e) => [e.at, e.step, e.message]),
          c,
        );
  return text;
}
