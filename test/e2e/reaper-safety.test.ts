/**
 * The reaper acts only when it is sure, and loses nothing, on real Dask
 * and Jupyter processes. The plane's own loop is off (a sweep an hour):
 * each sweep is one `bilbo reap --json`, so the test knows what every
 * sweep saw. The clock is moved past idle_timeout (60 s) by the test.
 *
 * - A notebook whose repository has an unpushed commit is paused, not
 *   destroyed: its processes are stopped, the reason is on the record.
 * - A look that times out (the scheduler's processes SIGSTOPped) counts
 *   as unknown and never reaps; the idle time starts again from zero.
 * - Two sweeps at once act once: both are held, once they looked at the
 *   cluster, until both have, so both decide to act and the conditional
 *   write must choose.
 * - A create whose workflow was killed mid-way (its execution aborted
 *   while the plane's API and reaper run on, as when a Step Functions
 *   execution dies on AWS) is rolled back by the reaper's stuck rule, once
 *   its record has been left alone a minute. A whole local plane killed
 *   mid-create is settled by the plane that starts next, before any sweep
 *   could run (settle-abandoned-clusters.ts, tested by
 *   bilbo-local-restart.test.ts): the stuck rule is the path for a
 *   workflow that died while the plane lived.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReadinessProbe } from '../../lambdas/adapters/http/readiness-probe.ts';
import { readProcStat } from '../../lambdas/adapters/local/processes.ts';
import type { Clock, ReadinessProbe } from '../../lambdas/domain/ports.ts';
import type { Cluster, SweepReport } from '../../schemas/types.generated.ts';
import { waitFor } from '../support/dask-processes.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

let harness: TestControlPlane;
/** The plane's clock runs with real time, plus what the test skipped ahead. */
let skippedMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + skippedMs) };
/** Set by a test: the next create's workflow is aborted when it starts probing its services. */
let abortNextCreate = false;

/** Holds the reaper's looks at Dask's /metrics until `expected` of them have come, or 20 s passed. */
class LookGate {
  private arrived = 0;
  private open: () => void = () => {};
  readonly opened = new Promise<void>((resolve) => {
    this.open = resolve;
  });
  met = false;

  constructor(private readonly expected: number) {
    setTimeout(this.open, 20_000).unref();
  }

  async pass(): Promise<void> {
    this.arrived += 1;
    if (this.arrived === this.expected) {
      this.met = true;
      this.open();
    }
    await this.opened;
  }
}
let gate: LookGate | undefined;
const http = new HttpReadinessProbe();
const probe: ReadinessProbe = {
  async look(requests) {
    const answers = await http.look(requests);
    if ('metrics' in requests) await gate?.pass();
    return answers;
  },
};
const DASK = { dask: { worker: { count: 1, nproc: 1, nthread: 1 } }, idle_timeout: 60 };
const PROFILES = {
  notes: { notebook: {}, idle_timeout: 60 },
  frozen: DASK,
  twice: DASK,
  abandoned: DASK,
};

/** In the notebook's workdir: a repository cloned from a bare remote beside it, one commit ahead of it. */
const UNPUSHED = `set -eu
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
git init -q --bare --initial-branch=main ../remote.git
git init -q --initial-branch=main ../first && echo one > ../first/a.txt
git -C ../first add a.txt && git -C ../first commit -qm one && git -C ../first push -q ../remote.git main
git clone -q ../remote.git analysis && echo two >> analysis/a.txt && git -C analysis commit -qam two
echo made`;

beforeAll(async () => {
  harness = await startTestControlPlane({
    clock,
    reapEveryMs: 3_600_000,
    probe,
    admins: [userInfo().username],
    runner: {
      interceptor: async (stateName, _payload, next) => {
        if (stateName !== 'ProbeReady' || !abortNextCreate) return next();
        abortNextCreate = false;
        harness.plane.runner.abortAll();
        throw new Error('killed with its workflow');
      },
    },
  });
  mkdirSync(join(harness.home, 'profiles'));
  for (const [name, profile] of Object.entries(PROFILES)) {
    writeFileSync(join(harness.home, 'profiles', `${name}.json`), JSON.stringify(profile));
  }
});

afterAll(async () => {
  await harness?.stop();
});

const record = (name: string): Promise<Cluster> => harness.api.getCluster(name);

const created = (name: keyof typeof PROFILES, ...flags: string[]) =>
  harness.bilboJson<Cluster>('create', name, '--json', ...flags);

/** One whole sweep, now, through `bilbo reap --json`. */
const sweep = () => harness.bilboJson<SweepReport>('reap', '--json');

const actionsOn = (report: SweepReport, name: string) =>
  report.actions.filter((action) => action.cluster === name);

async function until(name: string, state: Cluster['state']): Promise<Cluster> {
  return waitFor(
    `${name} to be ${state}`,
    async () => {
      const cluster = await record(name);
      return cluster.state === state ? cluster : undefined;
    },
    60_000,
  );
}

/** The process group of the cluster's instance in `role`. */
async function groupOf(cluster: Cluster, role: string): Promise<number> {
  const instance = cluster.instances?.find((candidate) => candidate.role === role);
  const saved = await harness.plane.processes!.registry.load(instance!.id);
  return saved!.pgid;
}

// Each test creates a cluster and waits for sweeps and workflows: on a busy machine that takes a while.
describe('the reaper is safe, on the local control plane', { timeout: 180_000 }, () => {
  it('pauses, not destroys, an idle cluster whose notebook has an unpushed commit, and says why', async () => {
    await created('notes');
    const setup = await harness.bilbo('rcmd', 'notes', 'notebook', UNPUSHED);
    expect(setup.stdout, setup.stderr).toContain('made');
    await sweep();
    expect((await record('notes')).idleSince).toBeDefined();

    skippedMs += 61_000;
    const report = await sweep();

    const [action] = actionsOn(report, 'notes');
    expect(action).toMatchObject({ cluster: 'notes', action: 'pause' });
    const reason = action!.reason;
    expect(reason).toMatch(
      /^reaped: idle for 6\d s; paused instead: unsaved work in its notebook \(unpushed in analysis\)$/,
    );
    expect(report).toMatchObject({ paused: 1, destroyed: 0 });
    const paused = await until('notes', 'PAUSED');
    const messages = (await harness.api.events('notes')).map((event) => event.message);
    expect(messages).toContain(reason);
    expect(messages).toContain(`${reason}: pause (reaper)`);
    expect(paused.pauseReason).toBe(`${reason}: pause (reaper)`);
    const listed = await harness.bilbo('ls', '-a');
    expect(listed.stdout.split('\n').find((line) => line.startsWith('notes'))).toMatch(
      /\sreaped: idle for 6\d s; paused instead: unsaved work in its notebook/,
    );
    const described = (await harness.bilbo('desc', 'notes')).stdout.split('\n');
    const pausedLine = described.find((line) => line.startsWith('paused'));
    expect(pausedLine?.replace(/^paused\s+/, '')).toBe(`${reason}: pause (reaper)`);
    const machines = await harness.plane.machines.describe(paused.instances!.map((instance) => instance.id));
    expect(machines.map((machine) => machine.state)).toEqual(['stopped']);
    // Jupyter itself, not the shell that ties its group to the plane (which runs on, by design).
    const jupyter = (await harness.liveProcesses(paused.id)).filter((pid) => {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      return command.includes('jupyter') && !command.includes('bilbo-tied');
    });
    expect(jupyter.length).toBeGreaterThan(0);
    expect(jupyter.map((pid) => readProcStat(pid)?.state)).toEqual(jupyter.map(() => 'T'));

    skippedMs += 61_000;
    expect(actionsOn(await sweep(), 'notes')).toEqual([]);
    expect((await record('notes')).state).toBe('PAUSED');

    const destroyed = await harness.bilbo('destroy', 'notes', '-f');
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(await harness.liveProcesses(paused.id)).toEqual([]);
  });

  it('counts a look that times out as unknown, never idle, and starts the idle time again after', async () => {
    const cluster = await created('frozen');
    await sweep();
    const firstIdle = (await record('frozen')).idleSince;
    expect(firstIdle).toBeDefined();
    skippedMs += 61_000;
    const scheduler = await groupOf(cluster, 'scheduler');

    process.kill(-scheduler, 'SIGSTOP');
    let frozenLook: SweepReport;
    try {
      frozenLook = await sweep();
    } finally {
      process.kill(-scheduler, 'SIGCONT');
    }

    expect(frozenLook).toMatchObject({ unknown: 1, destroyed: 0, paused: 0 });
    expect(actionsOn(frozenLook, 'frozen')).toEqual([]);
    const afterUnknown = await record('frozen');
    expect(afterUnknown.state).toBe('READY');
    expect(afterUnknown.idleSince).toBeUndefined();

    const resumedAt = clock.now().getTime();
    await sweep();
    const idleAgain = (await record('frozen')).idleSince;
    expect(Date.parse(idleAgain!)).toBeGreaterThanOrEqual(resumedAt);
    expect(actionsOn(await sweep(), 'frozen')).toEqual([]);
    expect((await record('frozen')).state).toBe('READY');

    skippedMs += 61_000;
    expect(actionsOn(await sweep(), 'frozen')).toMatchObject([{ action: 'destroy' }]);
    expect((await until('frozen', 'DESTROYED')).destroyReason).toMatch(/^reaped: idle for 6\d s/);
    expect(await harness.liveProcesses(cluster.id)).toEqual([]);
  });

  it('acts once when two sweeps run at once', async () => {
    const cluster = await created('twice');
    await sweep();
    expect((await record('twice')).idleSince).toBeDefined();
    skippedMs += 61_000;

    const held = new LookGate(2);
    gate = held;
    const reports = await Promise.all([sweep(), sweep()]).finally(() => {
      gate = undefined;
    });

    expect(held.met).toBe(true);

    const acted = reports.map((report) => actionsOn(report, 'twice'));
    expect(acted.flat()).toMatchObject([{ cluster: 'twice', action: 'destroy' }]);
    expect(acted.filter((actions) => actions.length === 0)).toHaveLength(1);
    expect(reports.map((report) => report.destroyed).sort()).toEqual([0, 1]);
    await until('twice', 'DESTROYED');
    const events = await harness.api.events('twice');
    expect(events.filter((event) => event.step === 'reaper')).toHaveLength(1);
    expect(events.filter((event) => event.step === 'destroy-requested')).toHaveLength(1);
    expect(await harness.liveProcesses(cluster.id)).toEqual([]);
  });

  it('rolls back a create whose workflow was killed mid-way, once it has been left alone a minute', async () => {
    abortNextCreate = true;
    const creating = await created('abandoned', '--no-wait');
    await waitFor('the create workflow to be aborted', async () => {
      const { executionArn } = await record('abandoned');
      return executionArn && harness.plane.runner.execution(executionArn)?.status === 'ABORTED'
        ? true
        : undefined;
    });
    expect((await record('abandoned')).state).toBe('CREATING');
    expect((await harness.liveProcesses(creating.id)).length).toBeGreaterThan(0);

    expect(actionsOn(await sweep(), 'abandoned')).toEqual([]);
    expect((await record('abandoned')).state).toBe('CREATING');

    skippedMs += 61_000;
    const report = await sweep();

    const why = 'stuck creating: its workflow is no longer running';
    expect(actionsOn(report, 'abandoned')).toEqual([
      {
        cluster: 'abandoned',
        action: 'fail',
        reason: `${why}: rolled back: FAILED, every instance terminated`,
      },
    ]);
    const failed = await record('abandoned');
    expect(failed).toMatchObject({ state: 'FAILED', failure: { step: 'reaper', message: why } });
    expect(await harness.liveProcesses(creating.id)).toEqual([]);
    const listed = await harness.bilbo('ls', '-a');
    expect(listed.stdout.split('\n').find((line) => line.startsWith('abandoned'))).toContain(
      `failed at reaper: ${why}`,
    );
  });
});
