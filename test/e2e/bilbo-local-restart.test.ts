/**
 * `bilbo local` stopped, killed and started again on the same home: one
 * plane per home, the records kept, nothing left running, and no cluster
 * left in progress.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../lambdas/adapters/local/processes.ts';
import type { Cluster, ClusterEvent } from '../../schemas/types.generated.ts';
import { type BilboLocalProcess, descendantsOf, spawnBilboLocal } from '../support/bilbo-local-process.ts';
import { waitFor } from '../support/dask-processes.ts';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'cli/bin/bilbo.mjs');
const profile = join(repo, 'examples/local.json');
const planes: BilboLocalProcess[] = [];
const homes: string[] = [];

afterEach(() => {
  for (const plane of planes.splice(0)) if (plane.child.exitCode === null) plane.child.kill('SIGKILL');
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'bilbo-restart-e2e-'));
  homes.push(home);
  return home;
}

function startPlane(home: string, args: string[] = []): BilboLocalProcess {
  const plane = spawnBilboLocal(bin, { home, args });
  planes.push(plane);
  return plane;
}

async function cli(settings: Record<string, string>, home: string, ...args: string[]) {
  const env = { ...process.env, ...settings, BILBO_HOME: home, NO_COLOR: '1' };
  const { stdout } = await promisify(execFile)(process.execPath, [bin, ...args], { env });
  return JSON.parse(stdout) as unknown;
}

const liveOf = (pids: number[]) => pids.filter((pid) => isProcessAlive(pid));

describe('bilbo local across restarts', () => {
  it('refuses a second plane on its home, and after a stop keeps the record: DESTROYED, saying why', async () => {
    const home = newHome();
    const first = startPlane(home);
    const settings = await first.ready();
    expect(await cli(settings, home, 'create', profile, '--json')).toMatchObject({ state: 'READY' });

    const second = startPlane(home);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(
      `another bilbo local (pid ${first.child.pid}, at ${settings.BILBO_ENDPOINT}) runs on ${home}`,
    );
    expect(second.stderr()).not.toContain('starting DynamoDB Local');
    const [stillReady] = (await cli(settings, home, 'ls', '--json')) as Cluster[];
    expect(stillReady).toMatchObject({ name: 'local', state: 'READY' });

    const started = descendantsOf(first.child.pid as number);
    expect(await first.interrupt()).toBe(0);
    expect(liveOf(started)).toEqual([]);

    const third = startPlane(home);
    const again = await third.ready();
    const [ended] = (await cli(again, home, 'ls', '-a', '--json')) as Cluster[];
    expect(ended).toMatchObject({ name: 'local', state: 'DESTROYED' });
    const { events } = (await cli(again, home, 'desc', 'local', '-d', '--json')) as {
      events: ClusterEvent[];
    };
    expect(events.map((event) => event.message)).toContain(
      "bilbo local stopped, and the cluster's local processes ended with it: destroy (bilbo local)",
    );
    expect(await third.interrupt()).toBe(0);
  });

  it('killed with SIGKILL during a create, leaves nothing running; the next start records the create FAILED', async () => {
    const home = newHome();
    const first = startPlane(home);
    const settings = await first.ready();
    await cli(settings, home, 'create', profile, '--no-wait', '--json');
    const instances = join(home, 'local', 'instances');
    await waitFor(
      'the first instance of the create',
      () => {
        try {
          return readdirSync(instances).some((name) => name.endsWith('.json')) || undefined;
        } catch {
          return undefined;
        }
      },
      30_000,
      20,
    );
    const started = descendantsOf(first.child.pid as number);
    expect(started.length).toBeGreaterThan(1); // DynamoDB Local's JVM and the scheduler, at least

    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor(
      'every process the killed plane started to end',
      () => liveOf(started).length === 0 || undefined,
      20_000,
    );

    const second = startPlane(home);
    const again = await second.ready();
    expect(second.stderr()).toContain('cluster local was CREATING when the last plane stopped: rolled back');
    const [failed] = (await cli(again, home, 'ls', '-a', '--json')) as Cluster[];
    expect(failed).toMatchObject({
      name: 'local',
      state: 'FAILED',
      failure: { step: 'control-plane', message: 'control plane stopped during the create' },
    });
    expect(await second.interrupt()).toBe(0);
  });

  it('says at once that a --port is busy, before starting anything', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const { port } = busy.address() as { port: number };
    try {
      const plane = startPlane(newHome(), ['--port', String(port)]);
      expect(await plane.exited).toBe(1);
      expect(plane.stderr()).toContain(`port ${port} is in use: choose another with --port`);
      expect(plane.stderr()).not.toContain('starting DynamoDB Local');
    } finally {
      busy.close();
    }
  });
});
