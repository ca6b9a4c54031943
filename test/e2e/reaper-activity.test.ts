/**
 * What keeps a cluster from the reaper, on real Dask and Jupyter
 * processes: a local plane sweeping every second, whose clock the test
 * moves past idle_timeout (60 s). A Dask task still running (its client
 * long gone) keeps the cluster; so does a notebook kernel running a cell.
 * Once the work is done, the next idle window ends the cluster. Work never
 * outlives max_lifetime: a cluster that old ends while its task still runs,
 * since the sweep applies the lifetime rule before it looks at activity.
 *
 * Each piece of work waits for a file the test writes, so the test, not
 * the clock, decides when it is done. `bilbo reap --json` runs one whole
 * sweep on demand: after it, the cluster has been looked at with the clock
 * past its window.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../lambdas/domain/ports.ts';
import type { Cluster, SweepReport } from '../../schemas/types.generated.ts';
import { DASK_PYTHON } from '../support/dask-launch.ts';
import { waitFor } from '../support/dask-processes.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const run = promisify(execFile);
let harness: TestControlPlane;
let files: string;
/** The plane's clock runs with real time, plus what the test skipped ahead. */
let skippedMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + skippedMs) };
const DASK = { dask: { worker: { count: 1, nproc: 1, nthread: 1 } } };
const PROFILES = {
  crunch: { ...DASK, idle_timeout: 60 },
  kernel: { notebook: {}, idle_timeout: 60 },
  elder: { ...DASK, idle_timeout: 60, max_lifetime: 120 },
};

/**
 * A Dask client that submits one task and leaves: fire_and_forget keeps
 * the task on the scheduler, which runs it until the file `done` exists.
 * The client closes once the task has started (it writes `started`).
 */
const HOLD_TASK = `import os, sys, time, distributed
address, started, done = sys.argv[1:4]
def hold(started, done):
    import os, time
    open(started, "w").close()
    while not os.path.exists(done):
        time.sleep(0.1)
client = distributed.Client(address, timeout=20)
distributed.fire_and_forget(client.submit(hold, started, done, pure=False))
deadline = time.monotonic() + 60
while not os.path.exists(started):
    if time.monotonic() > deadline:
        sys.exit("the task did not start")
    time.sleep(0.1)
client.close()
`;

/**
 * As a notebook user: starts a kernel through Jupyter's REST API, runs a
 * cell through the kernel's websocket, and leaves once Jupyter itself
 * says the kernel is busy. The cell runs until the file `done` exists.
 *
 * First a kernel_info request, asked again until the kernel's status for
 * it comes back on iopub: then the channels work both ways. Jupyter
 * Server 1.23 sometimes never follows a new kernel's state (its own iopub
 * watcher receives nothing, and /api/kernels says "starting" for good):
 * such a kernel is shut down and another started. It says on stderr how
 * far it got.
 */
const BUSY_KERNEL = `import asyncio, json, sys, uuid
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect
url, token, done = sys.argv[1:4]
headers = {"Authorization": "token " + token}
cell = "import os, time\\nwhile not os.path.exists(%r):\\n    time.sleep(0.1)" % done
session = uuid.uuid4().hex
http = AsyncHTTPClient()
def say(what):
    print(what, file=sys.stderr, flush=True)
def message(msg_type, content):
    header = {"msg_id": uuid.uuid4().hex, "session": session, "username": "test",
              "msg_type": msg_type, "version": "5.3"}
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content,
            "channel": "shell", "buffers": []}
async def answer(socket, request, msg_type, state=None):
    while True:
        raw = await socket.read_message()
        if raw is None:
            raise SystemExit("the kernel's channels closed")
        got = json.loads(raw)
        if (got["parent_header"].get("msg_id") == request["header"]["msg_id"]
                and got["msg_type"] == msg_type
                and state in (None, got["content"].get("execution_state"))):
            return got
async def state_of(kernel):
    answer = await http.fetch(url + "/api/kernels/" + kernel, headers=headers)
    return json.loads(answer.body)["execution_state"]
async def followed_kernel():
    while True:
        started = await http.fetch(url + "/api/kernels", method="POST", body="{}", headers=headers)
        kernel = json.loads(started.body)["id"]
        say("kernel " + kernel + " started")
        channels = url.replace("http", "ws", 1) + "/api/kernels/" + kernel + "/channels"
        socket = await websocket_connect(HTTPRequest(channels, headers=headers))
        while True:
            info = message("kernel_info_request", {})
            socket.write_message(json.dumps(info))
            try:
                await asyncio.wait_for(answer(socket, info, "status"), 2)
                break
            except asyncio.TimeoutError:
                pass
        say("the channels answer")
        for _ in range(30):
            if await state_of(kernel) != "starting":
                return kernel, socket
            await asyncio.sleep(0.1)
        say("Jupyter does not follow the state of kernel " + kernel + ": another one")
        socket.close()
        await http.fetch(url + "/api/kernels/" + kernel, method="DELETE", headers=headers)
async def main():
    kernel, socket = await followed_kernel()
    execute = message("execute_request", {"code": cell, "silent": False, "store_history": True,
                                          "user_expressions": {}, "allow_stdin": False,
                                          "stop_on_error": True})
    socket.write_message(json.dumps(execute))
    await answer(socket, execute, "status", "busy")
    say("the cell runs")
    while await state_of(kernel) != "busy":
        await asyncio.sleep(0.1)
    socket.close()
asyncio.run(asyncio.wait_for(main(), 90))
`;

beforeAll(async () => {
  harness = await startTestControlPlane({ clock, reapEveryMs: 1_000, admins: [userInfo().username] });
  files = mkdtempSync(join(tmpdir(), 'bilbo-reaper-activity-'));
  mkdirSync(join(harness.home, 'profiles'));
  for (const [name, profile] of Object.entries(PROFILES)) {
    writeFileSync(join(harness.home, 'profiles', `${name}.json`), JSON.stringify(profile));
  }
});

afterAll(async () => {
  await harness?.stop();
  if (files) rmSync(files, { recursive: true, force: true });
});

const record = (name: string): Promise<Cluster> => harness.api.getCluster(name);

const created = (name: keyof typeof PROFILES) => harness.bilboJson<Cluster>('create', name, '--json');

/** One whole sweep, now, through `bilbo reap --json`. */
const sweep = () => harness.bilboJson<SweepReport>('reap', '--json');

/** A task on the cluster's Dask that runs until the test writes the file it answers. */
async function holdTask(cluster: Cluster): Promise<string> {
  const started = join(files, `${cluster.name}.started`);
  const done = join(files, `${cluster.name}.done`);
  await run(DASK_PYTHON, ['-c', HOLD_TASK, cluster.schedulerAddress!, started, done]);
  return done;
}

/** Waits for a sweep of the loop to stamp idleSince, skips the clock past idle_timeout, and waits for the end. */
async function reapedOnceIdle(name: string): Promise<Cluster> {
  await waitFor(
    `a sweep to see ${name} idle`,
    async () => ((await record(name)).idleSince ? true : undefined),
    60_000,
  );
  skippedMs += 61_000;
  return waitFor(
    `the reaper to destroy ${name}`,
    async () => {
      const cluster = await record(name);
      return cluster.state === 'DESTROYED' ? cluster : undefined;
    },
    60_000,
  );
}

// Each test creates a cluster and waits for sweeps and workflows: on a busy machine that takes a while.
describe('the reaper and work in progress, on the local control plane', { timeout: 180_000 }, () => {
  it('keeps a cluster whose Dask task runs after its client left, and reaps it once the task is done', async () => {
    const cluster = await created('crunch');
    const done = await holdTask(cluster);

    await sweep();
    expect((await record('crunch')).idleSince).toBeUndefined();
    skippedMs += 61_000;
    const report = await sweep();

    expect(report.actions.filter((action) => action.cluster === 'crunch')).toEqual([]);
    expect(await record('crunch')).toMatchObject({ state: 'READY' });
    expect((await record('crunch')).idleSince).toBeUndefined();

    writeFileSync(done, '');
    const reaped = await reapedOnceIdle('crunch');
    expect(reaped.destroyReason).toMatch(/^reaped: idle for 6\d s: destroy \(reaper\)$/);
    expect(await harness.liveProcesses(reaped.id)).toEqual([]);
  });

  it('keeps a cluster whose notebook kernel is busy, and reaps it once the cell has run', async () => {
    const cluster = await created('kernel');
    const link = await harness.bilbo('notebook', 'kernel', '-u', '--json');
    expect(link.code, link.stderr).toBe(0);
    const token = new URL((JSON.parse(link.stdout) as { url: string }).url).searchParams.get('token');
    const done = join(files, 'kernel.done');
    await run(DASK_PYTHON, ['-c', BUSY_KERNEL, cluster.notebookUrl!, token!, done]);

    await sweep();
    expect((await record('kernel')).idleSince).toBeUndefined();
    skippedMs += 61_000;
    const report = await sweep();

    expect(report.actions.filter((action) => action.cluster === 'kernel')).toEqual([]);
    expect(await record('kernel')).toMatchObject({ state: 'READY' });
    expect((await record('kernel')).idleSince).toBeUndefined();

    writeFileSync(done, '');
    const reaped = await reapedOnceIdle('kernel');
    expect(reaped.destroyReason).toMatch(/^reaped: idle for 6\d s: destroy \(reaper\)$/);
    expect(await harness.liveProcesses(reaped.id)).toEqual([]);
  });

  it('ends a cluster past its max_lifetime while its task still runs, saying so', async () => {
    const cluster = await created('elder');
    await holdTask(cluster);
    await sweep();
    expect((await record('elder')).idleSince).toBeUndefined();

    skippedMs += 121_000;
    const reaped = await waitFor(
      'the reaper to end elder',
      async () => {
        const elder = await record('elder');
        return elder.state === 'DESTROYED' ? elder : undefined;
      },
      60_000,
    );

    expect(reaped.destroyReason).toMatch(
      /^reaped: reached its max_lifetime of 2 min \(\d+ min old\): destroy \(reaper\)$/,
    );
    const listed = await harness.bilbo('ls', '-a');
    expect(listed.stdout.split('\n').find((line) => line.startsWith('elder'))).toMatch(
      /reaped: reached its max_lifetime of 2 min/,
    );
    expect((await harness.bilbo('desc', 'elder')).stdout).toMatch(
      /^ended\s+reaped: reached its max_lifetime of 2 min/m,
    );
    expect(await harness.liveProcesses(reaped.id)).toEqual([]);
  });
});
