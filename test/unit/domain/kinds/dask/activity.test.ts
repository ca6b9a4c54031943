import { describe, expect, it } from 'vitest';
import {
  daskActivityChecks,
  judgeDaskActivity,
  parseMetrics,
} from '../../../../../lambdas/domain/kinds/dask/activity.ts';
import type { HttpAnswer } from '../../../../../lambdas/domain/ports.ts';
import type { Cluster, ClusterInstance } from '../../../../../schemas/types.generated.ts';

const scheduler: ClusterInstance = { id: 'i-s', role: 'scheduler', index: 0, privateIp: '10.0.0.5' };
const notebook: ClusterInstance = { id: 'i-n', role: 'notebook', index: 0, privateIp: '10.0.0.7' };

function clusterOf(...instances: ClusterInstance[]): Cluster {
  return { name: 'analytics', instances, plan: { roles: [] } } as unknown as Cluster;
}

/** What distributed 2022.12.1's /metrics serves (trimmed), with one client and a task still processing. */
const BUSY = `# HELP dask_scheduler_clients Number of clients connected
# TYPE dask_scheduler_clients gauge
dask_scheduler_clients 1.0
dask_scheduler_workers{state="connected"} 1.0
dask_scheduler_tasks{state="memory"} 1.0
dask_scheduler_tasks{state="waiting"} 0.0
dask_scheduler_tasks{state="processing"} 1.0
dask_scheduler_tasks{state="queued"} 0.0
dask_scheduler_prefix_state_totals_total{state="waiting",task_prefix_name="sum"} 1.0
dask_scheduler_prefix_state_totals_total{state="processing",task_prefix_name="sum"} 1.0
dask_scheduler_prefix_state_totals_total{state="memory",task_prefix_name="sum"} 1.0
dask_scheduler_tick_count_total 909.0
`;
const QUIET = BUSY.replace('dask_scheduler_clients 1.0', 'dask_scheduler_clients 0.0').replace(
  'dask_scheduler_tasks{state="processing"} 1.0',
  'dask_scheduler_tasks{state="processing"} 0.0',
);
const ok = (body: string): HttpAnswer => ({ status: 200, body });
const status = (lastActivity: string) =>
  ok(
    JSON.stringify({
      connections: 0,
      kernels: 1,
      last_activity: lastActivity,
      started: '2026-01-01T00:00:00Z',
    }),
  );

describe('the Dask kind: activity', () => {
  it('reads the Prometheus text, labels and all', () => {
    const samples = parseMetrics(BUSY);
    expect(samples.get('dask_scheduler_clients')).toBe(1);
    expect(samples.get('dask_scheduler_tasks{state="processing"}')).toBe(1);
    expect(samples.has('# HELP dask_scheduler_clients Number of clients connected')).toBe(false);
  });

  it("looks at the notebook's status before and after its kernels (a kernels GET is activity to Jupyter)", () => {
    const groups = daskActivityChecks(clusterOf(scheduler, notebook), 'private', { 'jupyter-token': 't' });
    expect(groups.map((group) => Object.keys(group))).toEqual([
      ['metrics', 'status'],
      ['kernels'],
      ['statusAfter'],
    ]);
    expect(groups[0]!.metrics).toBe('http://10.0.0.5:8787/metrics');
  });

  it('is active while tasks process, and while a client is connected unless clients are ignored', () => {
    const cluster = clusterOf(scheduler);
    expect(judgeDaskActivity(cluster, { metrics: ok(BUSY) }, { ignoreClients: false })).toMatchObject({
      state: 'active',
      why: '1 Dask tasks in progress',
    });
    const client = QUIET.replace('dask_scheduler_clients 0.0', 'dask_scheduler_clients 2.0');
    expect(judgeDaskActivity(cluster, { metrics: ok(client) }, { ignoreClients: false })).toMatchObject({
      state: 'active',
      why: '2 Dask clients connected',
    });
    expect(judgeDaskActivity(cluster, { metrics: ok(client) }, { ignoreClients: true }).state).toBe('idle');
  });

  it('is idle with nothing running and no transition since the last mark, active when tasks moved', () => {
    const cluster = clusterOf(scheduler);
    const first = judgeDaskActivity(cluster, { metrics: ok(QUIET) }, { ignoreClients: false });
    expect(first).toEqual({
      state: 'idle',
      why: 'no Dask task, client or notebook activity',
      mark: 'dask=3',
    });
    const moved = QUIET.replace('task_prefix_name="sum"} 1.0', 'task_prefix_name="sum"} 4.0');
    expect(
      judgeDaskActivity(cluster, { metrics: ok(moved) }, { ignoreClients: false, lastMark: first.mark! }),
    ).toMatchObject({ state: 'active', why: 'Dask tasks ran since the last look', mark: 'dask=6' });
  });

  it('is unknown, never idle, when the dashboard or the notebook does not answer', () => {
    expect(judgeDaskActivity(clusterOf(scheduler), {}, { ignoreClients: false }).state).toBe('unknown');
    expect(
      judgeDaskActivity(
        clusterOf(scheduler),
        { metrics: { status: 500, body: '' } },
        { ignoreClients: false },
      ).state,
    ).toBe('unknown');
    expect(
      judgeDaskActivity(clusterOf(scheduler, notebook), { metrics: ok(QUIET) }, { ignoreClients: false })
        .state,
    ).toBe('unknown');
  });

  it("is active with a busy kernel, or when the notebook's last activity moved since the last look", () => {
    const cluster = clusterOf(notebook);
    const t0 = '2026-01-01T10:00:00.000Z';
    const t1 = '2026-01-01T10:00:01.000Z';
    const busy = [{ id: 'k', execution_state: 'busy' }];
    const idle = [{ id: 'k', execution_state: 'idle' }];
    const answers = (kernels: unknown, before: string, after: string) => ({
      status: status(before),
      kernels: ok(JSON.stringify(kernels)),
      statusAfter: status(after),
    });
    expect(judgeDaskActivity(cluster, answers(busy, t0, t1), { ignoreClients: false })).toMatchObject({
      state: 'active',
      why: '1 notebook kernels busy',
    });
    const first = judgeDaskActivity(cluster, answers(idle, t0, t1), { ignoreClients: false });
    expect(first).toMatchObject({ state: 'idle', mark: `jupyter=${t1}` });
    // Our own kernels GET moved last_activity to t1: the next look starts from there.
    expect(
      judgeDaskActivity(cluster, answers(idle, t1, '2026-01-01T10:05:01.000Z'), {
        ignoreClients: false,
        lastMark: first.mark!,
      }).state,
    ).toBe('idle');
    expect(
      judgeDaskActivity(cluster, answers(idle, '2026-01-01T10:03:00.000Z', t1), {
        ignoreClients: false,
        lastMark: first.mark!,
      }),
    ).toMatchObject({ state: 'active', why: 'the notebook was used since the last look' });
  });

  it('counts a kernel in any state but idle or dead as in use: Jupyter may never learn a busy kernel is busy', () => {
    const cluster = clusterOf(notebook);
    const t0 = '2026-01-01T10:00:00.000Z';
    const look = (kernels: unknown) =>
      judgeDaskActivity(
        cluster,
        { status: status(t0), kernels: ok(JSON.stringify(kernels)), statusAfter: status(t0) },
        { ignoreClients: false },
      );

    expect(look([{ id: 'k', execution_state: 'starting' }])).toMatchObject({
      state: 'active',
      why: '1 notebook kernels starting',
    });
    expect(
      look([
        { id: 'a', execution_state: 'busy' },
        { id: 'b', execution_state: 'restarting' },
        { id: 'c', execution_state: 'idle' },
        { id: 'd' },
      ]),
    ).toMatchObject({ state: 'active', why: '3 notebook kernels busy or restarting or unknown' });
    expect(
      look([
        { id: 'a', execution_state: 'idle' },
        { id: 'b', execution_state: 'dead' },
      ]).state,
    ).toBe('idle');
  });
});
