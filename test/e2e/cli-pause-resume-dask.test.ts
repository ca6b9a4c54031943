/**
 * `bilbo pause` and `bilbo resume`, as a user runs them, on real Dask
 * processes. Locally a paused machine is a stopped process group (SIGSTOP):
 * every process stays, holding its state and its ports but getting no CPU,
 * and the dashboard answers nothing; a resume continues them (SIGCONT), the
 * workflow waits for the services as a create does, records the addresses
 * the provider reports and READY, and a real `distributed.Client` computes
 * again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupStopped, readProcStat } from '../../lambdas/adapters/local/processes.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { compute } from '../support/dask-client.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

let harness: TestControlPlane;
const bilbo = (...args: string[]) => harness.bilbo(...args);

beforeAll(async () => {
  harness = await startTestControlPlane();
  mkdirSync(join(harness.home, 'profiles'));
  writeFileSync(
    join(harness.home, 'profiles', 'pausable.json'),
    JSON.stringify({
      instance: { vol_size: 30 },
      dask: { worker: { count: 2, nproc: 1, nthread: 1 } },
    }),
  );
});

afterAll(async () => {
  await harness?.stop();
});

/** The state letter (/proc/PID/stat) of every live process of the cluster's instances. */
async function processStates(clusterId: string): Promise<string[]> {
  return (await harness.liveProcesses(clusterId)).map((pid) => readProcStat(pid)?.state ?? 'gone');
}

/** Whether each instance's processes are stopped (all but the tie that ends them with the plane). */
async function instancesStopped(clusterId: string): Promise<boolean[]> {
  const records = await harness.plane.processes!.registry.list();
  return records
    .filter((record) => record.clusterId === clusterId)
    .map((record) => groupStopped(record.pgid, record.procStartTicks));
}

async function dashboardAnswers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

describe('bilbo pause and resume, end to end on the local control plane', () => {
  let cluster: Cluster;
  let processes: number[];

  it('creates a cluster that computes', async () => {
    const created = await bilbo('create', 'pausable', '--json');
    expect(created.code, created.stderr).toBe(0);
    cluster = JSON.parse(created.stdout) as Cluster;
    processes = await harness.liveProcesses(cluster.id);

    expect((await compute(cluster.schedulerAddress ?? '')).stdout.trim()).toBe('332833500 2');
    expect(processes.length).toBeGreaterThanOrEqual(3);
  });

  it('pauses it: every process stopped (not gone), the dashboard silent, PAUSED, exit 0', async () => {
    const paused = await bilbo('pause', cluster.name, '--json');

    expect(paused.code, paused.stderr).toBe(0);
    const record = JSON.parse(paused.stdout) as Cluster;
    expect(record.state).toBe('PAUSED');
    expect(record.instances?.map((instance) => instance.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(paused.stderr).toContain('stopping 3 instances');
    expect(paused.stderr).toMatch(
      /paused in [\d.]+ s: 3 instances stopped; their volumes still cost \(3 × 30 GiB\)/,
    );
    // The same processes, stopped: their state is kept, and they get no CPU.
    expect(await harness.liveProcesses(cluster.id)).toEqual(processes);
    expect(await instancesStopped(cluster.id)).toEqual([true, true, true]);
    expect((await processStates(cluster.id)).filter((state) => state === 'T').length).toBeGreaterThanOrEqual(
      3,
    );
    expect(await dashboardAnswers(cluster.dashboardUrl ?? '')).toBe(false);
  });

  it('lists it PAUSED with what it still costs', async () => {
    const listed = await bilbo('ls');

    expect(listed.code).toBe(0);
    const [header, row] = listed.stdout.trimEnd().split('\n');
    expect(header).toContain('PAUSED, STILL COSTS');
    expect(row).toMatch(/^pausable\s+PAUSED\s+.*volumes 3 × 30 GiB\s+pause requested by \S+$/);
  });

  it('refuses to pause it again, or to restart it, with exit 1 and a hint', async () => {
    const again = await bilbo('pause', cluster.name);
    const restart = await bilbo('restart', cluster.name);

    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already paused');
    expect(restart.code).toBe(1);
    expect(restart.stderr).toContain('resume it first');
  });

  it('resumes it: the processes continue, every worker joins again, the addresses recorded, READY, exit 0', async () => {
    const resumed = await bilbo('resume', cluster.name, '--json');

    expect(resumed.code, resumed.stderr).toBe(0);
    const record = JSON.parse(resumed.stdout) as Cluster;
    expect(record).toMatchObject({ state: 'READY', workersJoined: 2 });
    expect(record.instances?.map((instance) => instance.state)).toEqual(['running', 'running', 'running']);
    expect(resumed.stderr).toContain('starting 3 instances');
    expect(resumed.stderr).toContain('2/2 workers joined');
    // The addresses are those the provider reports now (locally the same host and ports).
    const machines = await harness.plane.processes!.describe(
      record.instances!.map((instance) => instance.id),
    );
    expect(record.instances?.map((instance) => [instance.privateIp, instance.ports])).toEqual(
      machines.map((machine) => [machine.privateIp, machine.ports]),
    );
    const scheduler = machines.find((machine) => machine.role === 'scheduler')!;
    expect(record.schedulerAddress).toBe(`tcp://${scheduler.privateIp}:${scheduler.ports?.scheduler}`);
    expect(await harness.liveProcesses(cluster.id)).toEqual(processes);
    expect(await processStates(cluster.id)).not.toContain('T');
    expect(await instancesStopped(cluster.id)).toEqual([false, false, false]);
    cluster = record;
  });

  it('computes again with a real distributed.Client at the recorded address', async () => {
    expect((await compute(cluster.schedulerAddress ?? '')).stdout.trim()).toBe('332833500 2');
  });

  it('refuses to resume a cluster that is not paused, and destroys a paused one', async () => {
    const notPaused = await bilbo('resume', cluster.name);
    expect(notPaused.code).toBe(1);
    expect(notPaused.stderr).toContain('It is not paused');

    expect((await bilbo('pause', cluster.name)).code).toBe(0);
    expect((await bilbo('destroy', cluster.name, '-f')).code).toBe(0);
    expect(await harness.liveProcesses(cluster.id)).toEqual([]);
  });
});
