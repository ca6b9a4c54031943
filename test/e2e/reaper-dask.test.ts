/**
 * The reaper on real Dask processes: a local plane sweeping every second,
 * whose clock the test moves forward. A cluster with nothing to do is
 * destroyed once its idle_timeout (60 s) has passed, with the reason in
 * `bilbo ls -a` and `bilbo desc`; one with a real Dask client connected
 * is not. `bilbo reap` is for admins only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../lambdas/domain/ports.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { waitFor } from '../support/dask-processes.ts';
import { reapThrough, startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

let harness: TestControlPlane;
let client: ChildProcess | undefined;
/** The plane's clock runs with real time, plus what the test skipped ahead. */
let skippedMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + skippedMs) };
const PROFILE = { dask: { worker: { count: 1, nproc: 1, nthread: 1 } }, idle_timeout: 60 };

beforeAll(async () => {
  harness = await startTestControlPlane({ clock, reapEveryMs: 1_000, users: ['alice'], admins: ['alice'] });
  mkdirSync(join(harness.home, 'profiles'));
  for (const name of ['quiet', 'busy']) {
    writeFileSync(join(harness.home, 'profiles', `${name}.json`), JSON.stringify(PROFILE));
  }
});

afterAll(async () => {
  client?.kill('SIGKILL');
  await harness?.stop();
});

const record = async (name: string): Promise<Cluster> => harness.apiAs('alice').getCluster(name);

describe('the reaper, end to end on the local control plane', () => {
  it('destroys an idle cluster once its idle_timeout has passed, and keeps one with a client connected', async () => {
    for (const name of ['quiet', 'busy']) {
      const created = await harness.bilbo('create', name, '--json');
      expect(created.code, created.stderr).toBe(0);
    }
    const busy = await record('busy');
    client = spawn(
      '/usr/bin/python3',
      [
        '-c',
        'import sys, time, distributed\nc = distributed.Client(sys.argv[1], timeout=20)\nprint("connected", flush=True)\ntime.sleep(600)',
        busy.schedulerAddress!,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      client!.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('connected') && resolve());
      client!.on('exit', (code) => reject(new Error(`the Dask client exited (${code})`)));
    });

    const stamped = await waitFor('a sweep to see the quiet cluster idle', async () => {
      const quiet = await record('quiet');
      return quiet.idleSince ? quiet : undefined;
    });
    expect(stamped.state).toBe('READY');
    // Sweeps run every second: a few more have looked at the busy one by now.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await record('busy')).idleSince).toBeUndefined();
    expect((await harness.bilbo('desc', 'quiet')).stdout).toMatch(
      /^idle since\s+\S+ \(.*idle_timeout 60s\)$/m,
    );

    skippedMs = 61_000;
    const reaped = await waitFor(
      'the reaper to destroy the quiet cluster',
      async () => {
        const quiet = await record('quiet');
        return quiet.state === 'DESTROYED' ? quiet : undefined;
      },
      60_000,
    );
    // 61 s skipped ahead, plus the real seconds the sweeps took (more on a busy machine).
    expect(reaped.destroyReason).toMatch(/^reaped: idle for (6[1-9]|[7-9]\d|1[01]\d) s: destroy \(reaper\)$/);
    expect(await harness.liveProcesses(reaped.id)).toEqual([]);

    const listed = await harness.bilbo('ls', '-a');
    expect(listed.stdout.split('\n').find((line) => line.startsWith('quiet'))).toMatch(
      /reaped: idle for (6[1-9]|[7-9]\d|1[01]\d) s/,
    );
    expect((await harness.bilbo('desc', 'quiet')).stdout).toMatch(
      /^ended\s+reaped: idle for (6[1-9]|[7-9]\d|1[01]\d) s/m,
    );

    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await record('busy')).toMatchObject({ state: 'READY' });
    expect((await record('busy')).idleSince).toBeUndefined();
  });

  it('runs one sweep on demand for an admin, and refuses anyone else', async () => {
    const report = await reapThrough(harness.apiAs('alice'), { dryRun: true });
    expect(report).toMatchObject({ dryRun: true, checked: 1, destroyed: 0 });

    const refused = await harness.bilbo('reap', '--dry-run');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('Only an admin of this bilbo deployment may run the reaper');
  });

  it('destroys the busy one once its client has gone and its idle time passed', async () => {
    client?.kill('SIGKILL');
    await waitFor('a sweep to see the busy cluster idle', async () =>
      (await record('busy')).idleSince ? true : undefined,
    );
    skippedMs += 61_000;
    await waitFor(
      'the reaper to destroy the busy cluster',
      async () => ((await record('busy')).state === 'DESTROYED' ? true : undefined),
      60_000,
    );
  });
});
