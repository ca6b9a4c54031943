/**
 * The profile's init_cmd on a real local cluster: the synthesized create
 * workflow, real Dask processes, commands as local subprocesses. Under
 * init_fail "warn" a failing command is an event and the cluster is READY;
 * under "fail" the create rolls back and no process is left.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Profile } from '../../schemas/types.generated.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const execFileAsync = promisify(execFile);
const BILBO = join(import.meta.dirname, '..', '..', 'cli/bin/bilbo.mjs');
let harness: TestControlPlane;

/**
 * The scheduler's commands: the first proves it runs once the scheduler
 * listens (its ports file is in the instance's folder), the second fails, the
 * third must never run. Each worker has its own list, which replaces the common one.
 */
function profile(initFail: 'warn' | 'fail'): Profile {
  return {
    instance: {
      init_cmd: ['test -s scheduler.json', 'echo "installing x"; exit 3', 'echo never'],
      init_fail: initFail,
    },
    dask: { worker: { count: 1, nproc: 1, nthread: 1, instance: { init_cmd: ['true'] } } },
    ready_timeout: 120,
  };
}

async function createAndSettle(name: string, initFail: 'warn' | 'fail') {
  await harness.api.createCluster({ name, profile: profile(initFail) });
  await harness.plane.runner.waitForIdle();
  return harness.api.getCluster(name);
}

async function initEvents(name: string): Promise<string[]> {
  return (await harness.api.events(name))
    .filter((event) => event.step.startsWith('init-'))
    .map((event) => `${event.step}: ${event.message}`);
}

beforeAll(async () => {
  harness = await startTestControlPlane();
});

afterAll(async () => {
  await harness?.stop();
});

describe('init_cmd on a local cluster', () => {
  it('under init_fail "warn": records each exit code, skips the rest of the failing role\'s list, and the cluster is READY', async () => {
    const cluster = await createAndSettle('init-warn', 'warn');

    expect(cluster.state).toBe('READY');
    expect(await initEvents('init-warn')).toEqual([
      'init-scheduler: init_cmd "test -s scheduler.json" exited 0 on the scheduler',
      'init-scheduler: init_cmd "echo \\"installing x\\"; exit 3" exited 3 on scheduler ' +
        `${cluster.instances!.find((instance) => instance.role === 'scheduler')!.id}: installing x; ` +
        "the scheduler's 1 next init command not run",
      'init-worker: init_cmd "true" exited 0 on the worker',
    ]);
    const events = await harness.api.events('init-warn');
    const initAt = events.findIndex((event) => event.step.startsWith('init-'));
    expect(events.findIndex((event) => event.step === 'record-ready')).toBeGreaterThan(initAt);

    const env = {
      ...process.env,
      BILBO_HOME: harness.home,
      BILBO_ENDPOINT: harness.plane.endpoint,
      BILBO_REGION: harness.plane.region,
      AWS_ACCESS_KEY_ID: harness.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: harness.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: '',
      NO_COLOR: '1',
    };
    const { stdout } = await execFileAsync(process.execPath, [BILBO, 'desc', 'init-warn'], { env });
    const rows = stdout.split('\n').filter((line) => line.startsWith('cmd-'));
    expect(rows.map((row) => row.split(/\s{2,}/).slice(1, 6))).toEqual([
      ['init', 'true', 'worker', 'SUCCEEDED', '0'],
      ['init', 'echo "installing x"; exit 3', 'scheduler', 'FAILED', '3'],
      ['init', 'test -s scheduler.json', 'scheduler', 'SUCCEEDED', '0'],
    ]);

    await harness.api.destroyCluster('init-warn');
    await harness.plane.runner.waitForIdle();
  });

  it('under init_fail "fail": the create fails naming the role, the command and its exit code, and no process is left', async () => {
    const cluster = await createAndSettle('init-fail', 'fail');

    expect(cluster.state).toBe('FAILED');
    expect(cluster.failure).toMatchObject({ step: 'init', error: 'InitCommandFailedError' });
    expect(cluster.failure?.message).toMatch(
      /^init_cmd "echo \\"installing x\\"; exit 3" exited 3 on scheduler \S+: installing x; .*init_fail is "fail"$/,
    );
    expect(await harness.liveProcesses(cluster.id)).toEqual([]);
    expect((await initEvents('init-fail')).some((event) => event.startsWith('init-worker'))).toBe(false);
  });
});
