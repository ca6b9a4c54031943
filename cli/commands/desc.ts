import type { Cluster, ClusterEvent } from '../../schemas/types.generated.ts';
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

export async function descRun(options: DescOptions, f: Factory): Promise<void> {
  const api = await f.api();
  const cluster = await api.getCluster(options.name);
  const events = options.detail ? await allEvents(api, cluster.name) : undefined;
  if (options.json) {
    f.io.stdout.write(toJson(events === undefined ? cluster : { ...cluster, events }));
    return;
  }
  const c = colors(f.io.stdoutColor);
  f.io.stdout.write(describeCluster(cluster, f.now(), c));
  if (events !== undefined) f.io.stdout.write(describeDetail(cluster, events, c));
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
