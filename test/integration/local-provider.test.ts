import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpReadinessProbe } from '../../lambdas/adapters/http/readiness-probe.ts';
import { type InstanceRecord, InstanceRegistry } from '../../lambdas/adapters/local/instance-registry.ts';
import { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import { groupMembers, isProcessAlive, readProcStartTicks } from '../../lambdas/adapters/local/processes.ts';
import { findPython, pythonCandidates, pythonFor } from '../../lambdas/adapters/local/python-runtime.ts';
import { ProvisioningError } from '../../lambdas/domain/errors.ts';
import { daskKind } from '../../lambdas/domain/kinds/dask/index.ts';
import type { Machine } from '../../lambdas/domain/ports.ts';
import {
  DASK_PROGRAMS,
  DASK_PYTHON,
  launchRequest,
  schedulerBootstrap,
  workerBootstrap,
} from '../support/dask-launch.ts';
import { processesOf, waitFor } from '../support/dask-processes.ts';

let stateDir: string;
let provider: LocalProcessProvider;
const strays: ChildProcess[] = [];

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'bilbo-local-provider-'));
  provider = new LocalProcessProvider({ stateDir, programs: DASK_PROGRAMS, terminateGraceMs: 5_000 });
});

afterEach(async () => {
  const records = await provider.registry.list();
  await provider.terminate(records.map((record) => record.id));
  for (const child of strays.splice(0)) {
    if (child.pid !== undefined && isProcessAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
  }
});

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

async function recordOf(id: string): Promise<InstanceRecord> {
  const record = await provider.registry.load(id);
  if (!record) throw new Error(`no record for ${id}`);
  return record;
}

function dashboardUrl(scheduler: Machine): string {
  return `http://${scheduler.privateIp}:${scheduler.ports?.dashboard}`;
}

describe('LocalProcessProvider', () => {
  it('runs a scheduler and workers that join it, and terminate leaves none of their processes', async () => {
    const [scheduler] = await provider.launch(launchRequest());
    if (!scheduler) throw new Error('no scheduler');
    expect(scheduler).toMatchObject({
      role: 'scheduler',
      index: 0,
      state: 'running',
      privateIp: '127.0.0.1',
    });
    expect(Object.keys(scheduler.ports ?? {}).sort()).toEqual(['dashboard', 'scheduler']);

    const workers = await provider.launch(
      launchRequest({
        clusterId: scheduler.clusterId,
        role: 'worker',
        firstIndex: 3,
        count: 2,
        bootstrap: workerBootstrap(`tcp://127.0.0.1:${scheduler.ports?.scheduler}`),
      }),
    );
    expect(workers.map((worker) => worker.index)).toEqual([3, 4]);

    const probe = new HttpReadinessProbe();
    await waitFor('2 workers to join', async () => {
      const { identity } = await probe.look({ identity: `${dashboardUrl(scheduler)}/json/identity.json` });
      const joined = identity ? Object.keys(JSON.parse(identity.body).workers ?? {}).length : 0;
      return joined === 2 ? joined : undefined;
    });

    const traces = await Promise.all([scheduler, ...workers].map((machine) => recordOf(machine.id)));
    // A worker instance is a nanny plus the processes it spawned, all in the nanny's process group.
    for (const trace of traces.slice(1)) {
      const group = groupMembers(trace.pgid).map((member) => member.pid);
      expect(group.length).toBeGreaterThan(1);
      expect(processesOf(trace).sort()).toEqual(group.sort());
    }

    const ids = traces.map((trace) => trace.id);
    await provider.terminate(ids);

    for (const trace of traces) expect(processesOf(trace)).toEqual([]);
    const described = await provider.describe(ids);
    expect(described.map((machine) => machine.state)).toEqual(['terminated', 'terminated', 'terminated']);
  });

  it('keeps the worker space inside the instance work folder', async () => {
    const [machine] = await provider.launch(
      launchRequest({ role: 'worker', bootstrap: workerBootstrap('tcp://127.0.0.1:1') }),
    );
    const record = await recordOf(machine?.id ?? '');
    expect(record.command).toEqual(expect.arrayContaining(['--local-directory', record.workDir]));
    expect(record.workDir).toBe(join(stateDir, 'work', record.id));
    expect(record.logFile).toBe(join(stateDir, 'logs', `${record.id}.log`));
  });

  it('returns the first call’s instances to a retried launch with the same token, starting nothing new', async () => {
    const request = launchRequest({ bootstrap: schedulerBootstrap, count: 2 });
    const [first, concurrent] = await Promise.all([provider.launch(request), provider.launch(request)]);
    const retried = await provider.launch(request);

    const ids = first.map((machine) => machine.id);
    expect(ids).toHaveLength(2);
    expect(concurrent.map((machine) => machine.id)).toEqual(ids);
    expect(retried.map((machine) => machine.id)).toEqual(ids);
    const withToken = (await provider.registry.list()).filter(
      (record) => record.idempotencyToken === request.idempotencyToken,
    );
    expect(withToken.map((record) => record.id).sort()).toEqual([...ids].sort());
  });

  it('finds only the live machines of the cluster asked for', async () => {
    const clusterA = await provider.launch(
      launchRequest({ clusterId: 'c-a', bootstrap: schedulerBootstrap, count: 2 }),
    );
    const clusterB = await provider.launch(
      launchRequest({ clusterId: 'c-b', bootstrap: schedulerBootstrap }),
    );
    await provider.terminate([clusterA[0]?.id ?? '']);

    expect((await provider.findByCluster('c-a')).map((machine) => machine.id)).toEqual([clusterA[1]?.id]);
    expect((await provider.findByCluster('c-b')).map((machine) => machine.id)).toEqual([clusterB[0]?.id]);
    expect(await provider.findByCluster('c-none')).toEqual([]);
  });

  it('refuses a process spec whose program it was not given', async () => {
    const unknown = new LocalProcessProvider({
      stateDir,
      programs: DASK_PROGRAMS,
      processSpec: () => ({ program: 'ruby', args: [] }),
    });

    await expect(unknown.launch(launchRequest())).rejects.toThrow('no ruby program is configured');
  });

  it('fails a launch whose process ends before it says which ports it bound, with its log, leaving nothing', async () => {
    const reporting = new LocalProcessProvider({
      stateDir,
      programs: DASK_PROGRAMS,
      processSpec: () => ({
        program: 'python',
        args: ['-c', 'print("cannot bind"); raise SystemExit(3)'],
        reportsPorts: { file: 'ports.json', parse: (text) => (text ? { web: 1 } : undefined) },
      }),
    });
    const request = launchRequest({ clusterId: 'c-no-report' });

    await expect(reporting.launch(request)).rejects.toThrow(
      /ended before it listened; last log lines: cannot bind/,
    );
    expect(await reporting.findByCluster('c-no-report')).toEqual([]);
  });

  it('fails a launch whose process never says which ports it bound, within the time it is given', async () => {
    const silent = new LocalProcessProvider({
      stateDir,
      programs: DASK_PROGRAMS,
      portsReportTimeoutMs: 500,
      processSpec: () => ({
        program: 'python',
        args: ['-c', 'import time; time.sleep(60)'],
        reportsPorts: { file: 'ports.json', parse: () => undefined },
      }),
    });

    await expect(silent.launch(launchRequest({ clusterId: 'c-silent' }))).rejects.toThrow(
      'did not say which ports it listens on within 500 ms',
    );
    expect(await silent.findByCluster('c-silent')).toEqual([]);
  });

  it('reports a process that fails at start as terminated, with its exit code and log tail', async () => {
    const badPort = new LocalProcessProvider({
      stateDir,
      programs: DASK_PROGRAMS,
      processSpec: () => ({
        program: 'python',
        args: ['-m', 'dask', 'scheduler', '--host', '{host}', '--port', 'notaport'],
      }),
    });
    const [machine] = await badPort.launch(
      launchRequest({
        clusterId: 'c-bad-port',
      }),
    );
    const id = machine?.id ?? '';
    const [ended] = await waitFor('the bad scheduler to end', async () => {
      const described = await badPort.describe([id]);
      return described[0]?.state === 'terminated' ? described : undefined;
    });

    expect(ended?.stateReason).toMatch(/^exited with code 1; last log lines: /);
    expect(ended?.stateReason).toContain("ValueError: invalid literal for int() with base 10: 'notaport'");
    expect(await provider.findByCluster(machine?.clusterId ?? '')).toEqual([]);
  });

  it('pauses and resumes the process group with stop and start, idempotently', async () => {
    const [machine] = await provider.launch(launchRequest());
    const ids = [machine?.id ?? ''];

    await provider.stop(ids);
    await provider.stop(ids);
    expect((await provider.describe(ids))[0]?.state).toBe('stopped');
    expect((await provider.registry.load(ids[0] ?? ''))?.state).toBe('stopped');

    await provider.start(ids);
    await provider.start(ids);
    expect((await provider.describe(ids))[0]?.state).toBe('running');
  });

  async function workerWithChildren(on: LocalProcessProvider): Promise<InstanceRecord> {
    const [scheduler] = await on.launch(launchRequest());
    const [machine] = await on.launch(
      launchRequest({
        role: 'worker',
        bootstrap: workerBootstrap(`tcp://127.0.0.1:${scheduler?.ports?.scheduler}`),
      }),
    );
    const record = await recordOf(machine?.id ?? '');
    await waitFor('the nanny to spawn its worker', () =>
      groupMembers(record.pgid).length > 1 ? true : undefined,
    );
    return record;
  }

  it('terminates a stopped worker, the processes its nanny spawned included', async () => {
    const record = await workerWithChildren(provider);
    await provider.stop([record.id]);

    await provider.terminate([record.id]);
    await provider.terminate([record.id]);

    expect(processesOf(record)).toEqual([]);
    expect(await provider.describe([record.id])).toEqual([
      expect.objectContaining({ state: 'terminated', stateReason: 'terminated on request' }),
    ]);
  });

  it('kills the whole process group, stuck descendants included, once the grace period ends', async () => {
    const impatient = new LocalProcessProvider({ stateDir, programs: DASK_PROGRAMS, terminateGraceMs: 0 });
    const record = await workerWithChildren(impatient);
    // Descendants that cannot act on SIGTERM, nor notice that their nanny died.
    for (const member of groupMembers(record.pgid)) {
      if (member.pid !== record.pid) process.kill(member.pid, 'SIGSTOP');
    }

    await impatient.terminate([record.id]);

    expect(processesOf(record)).toEqual([]);
  });

  it('describes an id it never launched as terminated, and ignores it elsewhere', async () => {
    expect(await provider.describe(['i-local-000000000000'])).toEqual([
      {
        id: 'i-local-000000000000',
        clusterId: '',
        role: 'worker',
        index: 0,
        state: 'terminated',
        privateIp: '',
        stateReason: 'unknown instance',
        unseen: true,
      },
    ]);
    await expect(provider.terminate(['i-local-000000000000'])).resolves.toBeUndefined();
    await expect(provider.stop(['i-local-000000000000'])).resolves.toBeUndefined();
  });

  it('fails a launch whose interpreter does not exist with a ProvisioningError, leaving no record', async () => {
    const broken = new LocalProcessProvider({
      stateDir,
      programs: { python: join(stateDir, 'no-such-python') },
    });
    const request = launchRequest({ clusterId: 'c-broken', bootstrap: schedulerBootstrap });

    await expect(broken.launch(request)).rejects.toThrow(ProvisioningError);
    const records = await provider.registry.list();
    expect(records.filter((record) => record.clusterId === 'c-broken')).toEqual([]);
  });
});

describe('InstanceRegistry', () => {
  async function deadPid(): Promise<number> {
    const child = spawn('true');
    await once(child, 'exit');
    return child.pid as number;
  }

  function sleeper(): ChildProcess {
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    strays.push(child);
    return child;
  }

  function recordFor(
    id: string,
    child: ChildProcess,
    ownerPid: number,
    ownerStartTicks?: number,
  ): InstanceRecord {
    const pid = child.pid as number;
    return {
      id,
      clusterId: 'c-leftover',
      clusterName: 'leftover',
      owner: 'tester',
      role: 'worker',
      index: 0,
      idempotencyToken: id,
      pid,
      pgid: pid,
      procStartTicks: readProcStartTicks(pid) ?? 0,
      ports: {},
      command: ['sleep', '300'],
      logFile: join(stateDir, 'logs', `${id}.log`),
      workDir: join(stateDir, 'work', id),
      host: '127.0.0.1',
      ownerPid,
      ownerStartTicks,
      launchedAt: new Date().toISOString(),
      state: 'running',
    };
  }

  it('saves, loads, lists and removes records', async () => {
    const registry = new InstanceRegistry(mkdtempSync(join(tmpdir(), 'bilbo-registry-')));
    const record = recordFor('i-local-aaaaaaaaaaaa', sleeper(), process.pid);

    await registry.save(record);
    expect(await registry.load(record.id)).toEqual(record);
    expect(await registry.list()).toEqual([record]);

    await registry.remove(record.id);
    expect(await registry.load(record.id)).toBeUndefined();
    expect(await registry.list()).toEqual([]);
    rmSync(registry.stateDir, { recursive: true, force: true });
  });

  it('removes the processes of a dead owner’s records and leaves a live owner’s alone', async () => {
    const registry = new InstanceRegistry(mkdtempSync(join(tmpdir(), 'bilbo-leftovers-')));
    const orphan = sleeper();
    const liveOwner = sleeper();
    const owned = sleeper();
    await registry.save(recordFor('i-local-0rphan000000', orphan, await deadPid()));
    await registry.save(
      recordFor(
        'i-local-0wned0000000',
        owned,
        liveOwner.pid as number,
        readProcStartTicks(liveOwner.pid as number),
      ),
    );

    expect(await registry.removeLeftovers({ graceMs: 2_000 })).toEqual(['i-local-0rphan000000']);

    expect(isProcessAlive(orphan.pid as number)).toBe(false);
    expect((await registry.load('i-local-0rphan000000'))?.state).toBe('terminated');
    expect(isProcessAlive(owned.pid as number)).toBe(true);
    expect((await registry.load('i-local-0wned0000000'))?.state).toBe('running');
    expect(await registry.findLeftovers()).toEqual([]);
    rmSync(registry.stateDir, { recursive: true, force: true });
  });

  it('never takes a recycled pid for one of its instances', async () => {
    const registry = new InstanceRegistry(mkdtempSync(join(tmpdir(), 'bilbo-recycled-')));
    const stranger = sleeper();
    const record = recordFor('i-local-recyc1ed0000', stranger, await deadPid());
    await registry.save({ ...record, procStartTicks: record.procStartTicks - 1 });

    expect(await registry.removeLeftovers({ graceMs: 2_000 })).toEqual([]);
    expect(isProcessAlive(stranger.pid as number)).toBe(true);
    rmSync(registry.stateDir, { recursive: true, force: true });
  });
});

describe('findPython', () => {
  const dask = daskKind.localRuntime;

  it('answers the first candidate that can import the kind’s module (distributed)', async () => {
    expect(await findPython([join(stateDir, 'no-such-python'), 'true', 'python3', DASK_PYTHON], dask)).toBe(
      DASK_PYTHON,
    );
  });

  it('fails with a ProvisioningError that says how to install it when none can', async () => {
    await expect(findPython([join(stateDir, 'no-such-python')], dask)).rejects.toThrow(ProvisioningError);
    await expect(findPython([join(stateDir, 'no-such-python')], dask)).rejects.toThrow(
      /apt-get install python3-distributed/,
    );
  });

  it('tries BILBO_PYTHON alone when the environment sets it, and the defaults otherwise', () => {
    expect(pythonCandidates({ BILBO_PYTHON: '/opt/py/bin/python' })).toEqual(['/opt/py/bin/python']);
    expect(pythonCandidates({})).toEqual(['/usr/bin/python3', 'python3']);
  });

  it('refuses a BILBO_PYTHON that cannot import the module, naming it, instead of using another', async () => {
    const bad = join(stateDir, 'no-such-python');

    await expect(pythonFor({ BILBO_PYTHON: bad }, dask)).rejects.toThrow(
      `BILBO_PYTHON=${bad} cannot import distributed: install it for that interpreter (apt-get install python3-distributed), or unset BILBO_PYTHON`,
    );
    await expect(pythonFor({}, dask)).resolves.toBe(DASK_PYTHON);
  });
});
