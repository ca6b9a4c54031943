/**
 * Health after READY, as a user sees it, on real Dask processes: a worker
 * killed from outside bilbo shows in `bilbo desc` and `bilbo ls` as a
 * degraded cluster, with the instance terminated, why, and the workers the
 * real scheduler still counts. The plane trusts no earlier look (cache 0),
 * so each read looks again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../schemas/types.generated.ts';
import { processesOf, waitFor } from '../support/dask-processes.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

let harness: TestControlPlane;
const bilbo = (...args: string[]) => harness.bilbo(...args);

beforeAll(async () => {
  harness = await startTestControlPlane({ healthCacheMs: 0 });
  mkdirSync(join(harness.home, 'profiles'));
  writeFileSync(
    join(harness.home, 'profiles', 'watched.json'),
    JSON.stringify({ dask: { worker: { count: 2, nproc: 1, nthread: 1 } } }),
  );
});

afterAll(async () => {
  await harness?.stop();
});

async function descJson(name: string): Promise<Cluster> {
  const described = await bilbo('desc', name, '--json');
  expect(described.code, described.stderr).toBe(0);
  return JSON.parse(described.stdout) as Cluster;
}

describe('health after READY, end to end on the local control plane', () => {
  let cluster: Cluster;
  let killedId: string;

  it('shows a READY cluster whose processes all run as healthy', async () => {
    const created = await bilbo('create', 'watched', '--json');
    expect(created.code, created.stderr).toBe(0);
    cluster = JSON.parse(created.stdout) as Cluster;

    const described = await bilbo('desc', cluster.name);
    expect(described.stdout).toMatch(/^state\s+READY$/m);
    expect(described.stdout).toMatch(/^health\s+ok$/m);
    expect((await descJson(cluster.name)).health).toMatchObject({
      status: 'ok',
      instancesExpected: 3,
      instancesRunning: 3,
    });
  });

  it('shows a worker killed from outside bilbo in desc: degraded, why, the instance terminated', async () => {
    const records = await harness.plane.processes!.registry.list();
    const worker = records.find(
      (record) => record.clusterId === cluster.id && record.role === 'worker' && record.index === 1,
    );
    if (!worker) throw new Error('no worker 1 recorded');
    killedId = worker.id;
    process.kill(-worker.pgid, 'SIGKILL');
    await waitFor('the killed worker’s processes to end', () =>
      processesOf({ id: worker.id, pgid: worker.pgid, workDir: worker.workDir }).length === 0
        ? true
        : undefined,
    );

    // The scheduler notices the lost worker on its own time: the machines say it at once.
    const seen = await waitFor('the scheduler to count one worker', async () => {
      const described = await descJson(cluster.name);
      return described.workersJoined === 1 ? described : undefined;
    });

    expect(seen.state).toBe('READY');
    expect(seen.health).toMatchObject({ status: 'degraded', instancesExpected: 3, instancesRunning: 2 });
    expect(seen.health?.reason).toMatch(
      new RegExp(
        `^worker 1 \\(${killedId}\\) is terminated: killed by SIGKILL.*; only 1/2 Dask workers joined$`,
      ),
    );
    expect(seen.instances?.find((instance) => instance.id === killedId)?.state).toBe('terminated');

    const text = (await bilbo('desc', cluster.name)).stdout;
    expect(text).toMatch(/^state\s+READY \(degraded\)$/m);
    expect(text).toMatch(new RegExp(`^health\\s+degraded: worker 1 \\(${killedId}\\) is terminated`, 'm'));
    expect(text).toMatch(/^workers\s+1\/2 joined$/m);
    expect(text).toMatch(new RegExp(`^worker\\s+1\\s+${killedId}\\s+.*terminated$`, 'm'));
  });

  it('shows it degraded in ls too, with the reason', async () => {
    const listed = await bilbo('ls');

    expect(listed.code, listed.stderr).toBe(0);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(cluster.name));
    expect(row).toMatch(/READY \(degraded\)/);
    expect(row).toContain(`worker 1 (${killedId}) is terminated`);
    expect(listed.stdout.split('\n')[0]).toMatch(/REASON$/);
  });

  it('still destroys it, leaving no process behind', async () => {
    expect((await bilbo('destroy', cluster.name, '-f')).code).toBe(0);
    expect(await harness.liveProcesses(cluster.id)).toEqual([]);
  });
});
