/**
 * `bilbo restart`, as a user runs it, on real Dask processes: the CLI asks
 * the local control plane, whose restart workflow starts the scheduler and
 * the workers again on the ports they had; the workers join again, the
 * cluster's addresses stay right, and a real `distributed.Client` computes
 * on it as before.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../lambdas/adapters/local/processes.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { compute } from '../support/dask-client.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

let harness: TestControlPlane;
const bilbo = (...args: string[]) => harness.bilbo(...args);

beforeAll(async () => {
  harness = await startTestControlPlane();
  mkdirSync(join(harness.home, 'profiles'));
  writeFileSync(
    join(harness.home, 'profiles', 'restartable.json'),
    JSON.stringify({ dask: { worker: { count: 2, nproc: 1, nthread: 1 } } }),
  );
});

afterAll(async () => {
  await harness?.stop();
});

async function schedulerRecord(clusterId: string) {
  const records = await harness.plane.processes!.registry.list();
  const scheduler = records.find((record) => record.clusterId === clusterId && record.role === 'scheduler');
  if (!scheduler) throw new Error('no scheduler recorded');
  return scheduler;
}

describe('bilbo restart, end to end on the local control plane', () => {
  let cluster: Cluster;
  let before: Awaited<ReturnType<typeof schedulerRecord>>;

  it('creates a cluster that computes', async () => {
    const created = await bilbo('create', 'restartable', '--json');
    expect(created.code).toBe(0);
    cluster = JSON.parse(created.stdout) as Cluster;
    before = await schedulerRecord(cluster.id);

    expect((await compute(cluster.schedulerAddress ?? '')).stdout.trim()).toBe('332833500 2');
  });

  it('restarts it: a new scheduler process on the same ports, every worker back, exit 0 when READY', async () => {
    const restarted = await bilbo('restart', cluster.name, '--json');

    expect(restarted.code, restarted.stderr).toBe(0);
    const after = JSON.parse(restarted.stdout) as Cluster;
    expect(after).toMatchObject({
      state: 'READY',
      workersJoined: 2,
      schedulerAddress: cluster.schedulerAddress,
      dashboardUrl: cluster.dashboardUrl,
    });
    expect(restarted.stderr).toContain('restarting the scheduler services');
    expect(restarted.stderr).toContain('2/2 workers joined');

    const scheduler = await schedulerRecord(cluster.id);
    expect(scheduler.id).toBe(before.id);
    expect(scheduler.pid).not.toBe(before.pid);
    expect(isProcessAlive(before.pid, before.procStartTicks)).toBe(false);
    expect(isProcessAlive(scheduler.pid, scheduler.procStartTicks)).toBe(true);
    expect(scheduler.ports).toEqual(before.ports);
  });

  it('computes again with a real distributed.Client at the recorded address', async () => {
    expect((await compute(cluster.schedulerAddress ?? '')).stdout.trim()).toBe('332833500 2');
  });

  it('refuses a cluster that is not READY with exit 1 and a hint', async () => {
    expect((await bilbo('destroy', cluster.name, '-f')).code).toBe(0);

    const refused = await bilbo('restart', cluster.name);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('cannot go to RESTARTING');
    expect(await harness.liveProcesses(cluster.id)).toEqual([]);
  });
});
