/**
 * The reaper's orphan pass on the real local control plane: a process a
 * crashed run left behind (its record in the plane's instance registry,
 * its owner gone, the process still running) whose cluster the table does
 * not know is killed, and its record removed, once it is older than the
 * grace period, and not before. The plane's clock is moved, not waited for.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InstanceRecord, InstanceRegistry } from '../../lambdas/adapters/local/instance-registry.ts';
import { isProcessAlive, readProcStartTicks } from '../../lambdas/adapters/local/processes.ts';
import type { Clock } from '../../lambdas/domain/ports.ts';
import { REAPER_DEFAULTS } from '../../lambdas/domain/reaper/rules.ts';
import { reapThrough, startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const UNKNOWN_CLUSTER = 'c-00000000deadbeef';
const ID = 'i-local-0rphan0f0000';

let harness: TestControlPlane;
let leftover: ChildProcess;
/** The plane's clock runs with real time, plus what the test skipped ahead. */
let skippedMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + skippedMs) };

async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid as number;
}

/** What the registry holds of a process a run that is gone had launched. */
function leftoverRecord(pid: number, ownerPid: number, stateDir: string): InstanceRecord {
  return {
    id: ID,
    clusterId: UNKNOWN_CLUSTER,
    clusterName: 'forgotten',
    owner: 'local:alice',
    role: 'worker',
    index: 0,
    idempotencyToken: `${UNKNOWN_CLUSTER}-worker`,
    pid,
    pgid: pid,
    procStartTicks: readProcStartTicks(pid) ?? 0,
    ownerPid,
    ports: {},
    command: ['sleep', '300'],
    logFile: join(stateDir, 'logs', `${ID}.log`),
    workDir: join(stateDir, 'work', ID),
    host: '127.0.0.1',
    launchedAt: new Date().toISOString(),
    state: 'running',
  };
}

beforeAll(async () => {
  // Sweeps only when asked, so each one is the test's.
  harness = await startTestControlPlane({
    clock,
    reapEveryMs: 3_600_000,
    users: ['alice'],
    admins: ['alice'],
  });
});

afterAll(async () => {
  if (leftover?.pid !== undefined && isProcessAlive(leftover.pid)) process.kill(-leftover.pid, 'SIGKILL');
  await harness?.stop();
});

describe('the reaper’s orphan pass on the local control plane', () => {
  it('kills a leftover process of a cluster the table does not know once it is older than the grace, and not before', async () => {
    const registry = new InstanceRegistry(join(harness.home, 'local'));
    leftover = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const pid = leftover.pid as number;
    await registry.save(leftoverRecord(pid, await deadPid(), registry.stateDir));
    const reap = () => reapThrough(harness.apiAs('alice'));

    expect(await reap()).toMatchObject({ orphansRemoved: 0, actions: [] });
    skippedMs = REAPER_DEFAULTS.orphanGraceSeconds * 1000 - 30_000;
    expect(await reap()).toMatchObject({ orphansRemoved: 0, actions: [] });
    expect(isProcessAlive(pid)).toBe(true);

    skippedMs = REAPER_DEFAULTS.orphanGraceSeconds * 1000 + 1_000;
    const report = await reap();

    expect(report).toMatchObject({ orphansRemoved: 1, errors: 0 });
    expect(report.actions).toEqual([
      {
        cluster: UNKNOWN_CLUSTER,
        action: 'remove',
        reason: `reaped: orphan worker ${ID} (running, launched 15 min ago): no cluster record has its cluster id ${UNKNOWN_CLUSTER}`,
      },
    ]);
    expect(isProcessAlive(pid)).toBe(false);
    expect(await registry.load(ID)).toBeUndefined();
    expect(await harness.liveProcesses()).toEqual([]);
    expect(await reap()).toMatchObject({ orphansRemoved: 0 });
  });
});
