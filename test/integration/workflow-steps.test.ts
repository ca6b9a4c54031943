/**
 * The create workflow's forward steps (launchRole, checkMachines,
 * probeReady, recordReady) against the real store on DynamoDB Local and the
 * in-memory fake provider, which plays EC2 and takes injected faults.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { InstanceLostError, ProvisioningError, ReadyTimeoutError } from '../../lambdas/domain/errors.ts';
import type { HttpAnswer, ProbeRequest, ReadinessProbe } from '../../lambdas/domain/ports.ts';
import { checkMachines } from '../../lambdas/domain/workflow/check-machines.ts';
import { launchRole } from '../../lambdas/domain/workflow/launch-role.ts';
import { type ProbeSettings, probeReady } from '../../lambdas/domain/workflow/probe-ready.ts';
import { recordReady } from '../../lambdas/domain/workflow/record-ready.ts';
import { ALICE_ARN } from '../support/api-events.ts';
import { FakeMachineProvider, insufficientCapacityError, throttlingError } from '../support/fake-provider.ts';
import { useWorkflowHarness } from '../support/workflow-harness.ts';

const wf = useWorkflowHarness();
const { deps, latest, eventsOf, launchAll } = wf;

describe('launchRole', () => {
  it('launches the scheduler, tagged with the cluster, and records its address and dashboard URL', async () => {
    const out = await launchRole({ clusterId: wf.cluster.id, role: 'scheduler' }, deps());

    const [machine] = wf.provider.all();
    expect(out).toEqual({ machineIds: [machine!.id], primaryAddress: `tcp://${machine!.privateIp}:8786` });
    expect(wf.provider.launchRequests()[0]).toMatchObject({
      clusterId: wf.cluster.id,
      clusterName: 'analytics',
      owner: ALICE_ARN,
      role: 'scheduler',
      count: 1,
      idempotencyToken: `${wf.cluster.id}-scheduler`,
    });
    expect(await latest()).toMatchObject({
      instances: [
        { id: machine!.id, role: 'scheduler', index: 0, privateIp: machine!.privateIp, state: 'pending' },
      ],
      schedulerAddress: out.primaryAddress,
      dashboardUrl: `http://${machine!.privateIp}:8787`,
      privateDashboardUrl: `http://${machine!.privateIp}:8787`,
    });
    expect((await eventsOf('launch-scheduler')).map((event) => event.message)).toEqual([
      'launching scheduler',
      `launched scheduler at ${out.primaryAddress} (${machine!.id})`,
    ]);
  });

  it('launches every worker in one call pointed at the scheduler, and adds them to the instances', async () => {
    await launchAll();

    const workerLaunch = wf.provider.launchRequests()[1]!;
    expect(workerLaunch).toMatchObject({ role: 'worker', count: 2, firstIndex: 0 });
    expect(workerLaunch.bootstrap.schedulerAddress).toBe((await latest()).schedulerAddress);
    expect((await latest()).instances?.map((instance) => [instance.role, instance.index])).toEqual([
      ['scheduler', 0],
      ['worker', 0],
      ['worker', 1],
    ]);
  });

  it('launches nothing new when retried with the same token, and records no duplicates', async () => {
    await launchAll();

    const { schedulerAddress } = await latest();
    await launchRole({ clusterId: wf.cluster.id, role: 'worker', primaryAddress: schedulerAddress! }, deps());

    expect(wf.provider.all()).toHaveLength(3);
    const instanceIds = (await latest()).instances?.map((instance) => instance.id);
    expect(instanceIds).toHaveLength(3);
    expect(new Set(instanceIds).size).toBe(3);
  });

  it('finds the first call’s machines on a retry after the launch answer was lost', async () => {
    wf.provider.failOn('launch', throttlingError(), { afterEffect: true });
    await expect(launchRole({ clusterId: wf.cluster.id, role: 'scheduler' }, deps())).rejects.toThrow(
      'Rate exceeded',
    );

    const retried = await launchRole({ clusterId: wf.cluster.id, role: 'scheduler' }, deps());

    expect(wf.provider.all()).toHaveLength(1);
    expect(retried.machineIds).toEqual([wf.provider.all()[0]!.id]);
    expect((await latest()).instances).toHaveLength(1);
  });

  it('passes a provider error on as it is and records no instance', async () => {
    wf.provider.failOn('launch', insufficientCapacityError());

    await expect(launchRole({ clusterId: wf.cluster.id, role: 'scheduler' }, deps())).rejects.toThrow(
      /sufficient t3\.medium capacity/,
    );
    expect((await latest()).instances).toEqual([]);
  });

  it('throws ProvisioningError for a partial launch, after recording what did start', async () => {
    const { primaryAddress } = await launchRole({ clusterId: wf.cluster.id, role: 'scheduler' }, deps());
    wf.provider.launchOnlyNext(1);

    await expect(
      launchRole({ clusterId: wf.cluster.id, role: 'worker', primaryAddress: primaryAddress! }, deps()),
    ).rejects.toThrow(ProvisioningError);
    await expect(
      launchRole({ clusterId: wf.cluster.id, role: 'worker', primaryAddress: primaryAddress! }, deps()),
    ).rejects.toThrow('asked for 2 workers, the provider launched 1');
    expect((await latest()).instances?.filter((instance) => instance.role === 'worker')).toHaveLength(1);
  });

  it('names each worker with its index once they are recorded, and the scheduler at launch', async () => {
    await launchAll();

    const workers = wf.provider.all().filter((machine) => machine.role === 'worker');
    expect(workers.map((machine) => wf.provider.names.get(machine.id))).toEqual([
      'analytics-worker-0',
      'analytics-worker-1',
    ]);
    // A launch of one already carries its full name: nothing to rename.
    expect(wf.provider.calls.filter((call) => call.method === 'nameMachines')).toHaveLength(1);
  });

  it('still launches and records every worker when naming them fails, and says so in an event', async () => {
    wf.provider.failOn('nameMachines', throttlingError());
    await launchAll();

    expect((await latest()).instances?.filter((instance) => instance.role === 'worker')).toHaveLength(2);
    expect(wf.provider.names.size).toBe(0);
    expect((await eventsOf('launch-worker')).at(-1)?.message).toMatch(
      /^could not give every worker its own name \(Rate exceeded\); the rest keep the name analytics-worker$/,
    );
  });

  it('launches nothing for a cluster that is no longer being created', async () => {
    await wf.testStore.store.transition(wf.cluster.id, {
      name: wf.cluster.name,
      from: ['CREATING'],
      to: 'DESTROYING',
      event: { step: 'destroy-requested', message: 'destroy requested' },
    });

    await expect(launchRole({ clusterId: wf.cluster.id, role: 'scheduler' }, deps())).rejects.toThrow(
      ProvisioningError,
    );
    expect(wf.provider.callsOf('launch')).toBe(0);
  });
});

describe('checkMachines', () => {
  beforeEach(() => {
    wf.provider = new FakeMachineProvider({ pendingDescribes: 2 });
  });

  it('is done only once every recorded machine runs, and says so in the events', async () => {
    await launchAll();

    const first = await checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());
    const second = await checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());

    expect(first).toEqual({ done: false, running: 0, total: 3, waitSeconds: 2 });
    expect(second).toEqual({ done: true, running: 3, total: 3, waitSeconds: 2 });
    expect((await eventsOf('check-running')).map((event) => event.message)).toEqual([
      '3 instances running; waiting for the dashboard',
    ]);
  });

  it('records every instance again, once they run, with the addresses and state the provider gives now', async () => {
    await launchAll();
    const describe = wf.provider.describe.bind(wf.provider);
    // EC2 answers RunInstances with no public address: one appears once the machine runs.
    vi.spyOn(wf.provider, 'describe').mockImplementation(async (ids) =>
      (await describe(ids)).map((machine, n) =>
        machine.state === 'running' ? { ...machine, publicIp: `198.51.100.${n + 1}` } : machine,
      ),
    );
    const launched = (await latest()).instances ?? [];

    await checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());
    await checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());

    const recorded = await latest();
    expect(recorded.instances?.map((instance) => [instance.id, instance.role, instance.index])).toEqual(
      launched.map((instance) => [instance.id, instance.role, instance.index]),
    );
    expect(recorded.instances?.map((instance) => [instance.state, instance.publicIp])).toEqual([
      ['running', '198.51.100.1'],
      ['running', '198.51.100.2'],
      ['running', '198.51.100.3'],
    ]);
    expect(recorded.dashboardUrl).toBe('http://198.51.100.1:8787');
  });

  it('gives up past the deadline with ReadyTimeoutError, naming the machines still pending', async () => {
    wf.provider = new FakeMachineProvider({ pendingDescribes: Number.POSITIVE_INFINITY });
    await launchAll();
    const early = await checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());
    wf.testStore.clock.advance(57_000);
    const near = await checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());
    wf.testStore.clock.advance(3_000);

    const late = checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());

    expect(early).toMatchObject({ done: false, waitSeconds: 2 });
    // Every 5 s by now, but never past the deadline: 3 s left.
    expect(near).toMatchObject({ done: false, waitSeconds: 3 });
    await expect(late).rejects.toThrow(ReadyTimeoutError);
    await expect(late).rejects.toThrow(
      /^3 of 3 instances were not running within ready_timeout \(60 s\): i-\w+ pending, /,
    );
  });

  it('waits, once every machine runs, until each can take commands, then gives up naming the agent', async () => {
    await launchAll();
    await checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());
    const [scheduler] = wf.provider.all();
    wf.remote.unreachable.add(scheduler!.id);

    const unregistered = await checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());
    wf.testStore.clock.advance(61_000);
    const late = checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());

    expect(unregistered).toMatchObject({ done: false, running: 3, total: 3 });
    await expect(late).rejects.toThrow(ReadyTimeoutError);
    await expect(late).rejects.toThrow(
      `1 of 3 instances ran but could not take commands within ready_timeout (60 s): ${scheduler!.id}; on EC2 their SSM agent did not register`,
    );
    wf.remote.unreachable.clear();
  });

  it('throws InstanceLostError naming a machine that died, and why', async () => {
    await launchAll();
    const worker = wf.provider.all()[2]!;
    wf.provider.kill(worker.id, 'Server.SpotInstanceTermination: Spot instance termination');

    await expect(checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps())).rejects.toThrow(
      InstanceLostError,
    );
    await expect(checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps())).rejects.toThrow(
      `worker ${worker.id} is terminated before the cluster was ready: Server.SpotInstanceTermination`,
    );
  });

  it('passes a throttled describe on as it is, for the workflow to retry', async () => {
    await launchAll();
    wf.provider.failOn('describe', throttlingError());

    await expect(checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps())).rejects.toThrow(
      expect.objectContaining({ name: 'ThrottlingException' }),
    );
  });

  it('waiting for termination, terminates what is left and is done when nothing carries the tag', async () => {
    await launchAll();

    const first = await checkMachines({ clusterId: wf.cluster.id, want: 'terminated' }, deps());
    const second = await checkMachines({ clusterId: wf.cluster.id, want: 'terminated' }, deps());

    expect(first).toMatchObject({ done: false, running: 3 });
    expect(second).toMatchObject({ done: true, running: 0 });
    expect(wf.provider.alive(wf.cluster.id)).toEqual([]);
  });
});

/** A Dask cluster's answers to the probe: its dashboard's health and identity, and its notebook's API. */
function daskAnswers(
  dashboardUp: boolean,
  workersJoined: number,
  notebookUp = true,
): Record<string, HttpAnswer> {
  const workers = Object.fromEntries(Array.from({ length: workersJoined }, (_, i) => [`tcp://w${i}`, {}]));
  return {
    health: dashboardUp ? { status: 200, body: 'ok' } : { status: 503, body: 'starting' },
    identity: { status: 200, body: JSON.stringify({ workers }) },
    notebook: notebookUp
      ? { status: 200, body: '{"started": "2026-12-07T09:14:33Z", "last_activity": "2026-12-07T09:14:33Z"}' }
      : { status: 403, body: '{"message": "Forbidden", "reason": null}' },
  };
}

/** A probe that answers the scripted looks in turn, then the last one forever. */
function scriptedProbe(...script: Array<[dashboardUp: boolean, workersJoined: number]>) {
  let look = 0;
  return {
    look: vi.fn<ReadinessProbe['look']>(async () => {
      const [dashboardUp, workersJoined] = script[Math.min(look++, script.length - 1)]!;
      return daskAnswers(dashboardUp, workersJoined);
    }),
  };
}

describe('probeReady', () => {
  const settings: ProbeSettings = { budgetMs: 10_000, intervalMs: 1_000, network: 'private' };
  const sleep = vi.fn(async (ms: number) => wf.testStore.clock.advance(ms));
  const probeDeps = (probe: ReadinessProbe, overrides: Partial<ProbeSettings> = {}) => ({
    ...deps(),
    probe,
    clock: wf.testStore.clock,
    sleep,
    settings: { ...settings, ...overrides },
  });

  beforeEach(async () => {
    sleep.mockClear();
    await launchAll();
    await checkMachines({ clusterId: wf.cluster.id, want: 'running' }, deps());
  });

  it('is ready once the dashboard answers and the wanted workers joined', async () => {
    const probe = scriptedProbe([false, 0], [true, 0], [true, 1], [true, 2]);

    const out = await probeReady({ clusterId: wf.cluster.id }, probeDeps(probe));

    expect(out).toEqual({ ready: true, dashboardUp: true, workersJoined: 2, wantedWorkers: 2 });
    expect(probe.look).toHaveBeenCalledTimes(4);
    expect(probe.look).toHaveBeenCalledWith({
      health: `${(await latest()).privateDashboardUrl}/health`,
      identity: `${(await latest()).privateDashboardUrl}/json/identity.json`,
    });
    expect(sleep).toHaveBeenCalledTimes(3);
    expect(sleep).toHaveBeenCalledWith(1_000);
  });

  it('answers not ready at the end of its budget, with what it saw', async () => {
    const probe = scriptedProbe([true, 1]);

    const out = await probeReady({ clusterId: wf.cluster.id }, probeDeps(probe));

    expect(out).toEqual({ ready: false, dashboardUp: true, workersJoined: 1, wantedWorkers: 2 });
    expect(probe.look).toHaveBeenCalledTimes(11);
    expect((await latest()).workersJoined).toBe(1);
  });

  it('records dashboardAnsweredAt once, and an event per change of workers joined, not per look', async () => {
    const probe = scriptedProbe(
      [false, 0],
      [false, 0],
      [true, 0],
      [true, 0],
      [true, 1],
      [true, 1],
      [true, 2],
    );
    const answeredAt = new Date(wf.testStore.clock.now().getTime() + 2_000).toISOString();

    await probeReady({ clusterId: wf.cluster.id }, probeDeps(probe));
    await probeReady({ clusterId: wf.cluster.id }, probeDeps(probe));

    expect((await latest()).dashboardAnsweredAt).toBe(answeredAt);
    expect((await latest()).workersJoined).toBe(2);
    expect((await eventsOf('probe-ready')).map((event) => event.message)).toEqual([
      `dashboard answering at ${(await latest()).dashboardUrl}; 0/2 workers joined`,
      '1/2 workers joined',
      '2/2 workers joined',
    ]);
  });

  it('throws ReadyTimeoutError past ready_timeout when the dashboard never answered', async () => {
    wf.testStore.clock.advance(60_000);

    await expect(
      probeReady({ clusterId: wf.cluster.id }, probeDeps(scriptedProbe([false, 0]))),
    ).rejects.toThrow(ReadyTimeoutError);
    await expect(
      probeReady({ clusterId: wf.cluster.id }, probeDeps(scriptedProbe([false, 0]))),
    ).rejects.toThrow('the Dask dashboard did not answer within ready_timeout (60 s)');
  });

  it('throws ReadyTimeoutError naming the workers missing when the deadline passes during its budget', async () => {
    wf.testStore.clock.advance(55_000);

    await expect(
      probeReady({ clusterId: wf.cluster.id }, probeDeps(scriptedProbe([true, 1]))),
    ).rejects.toThrow('only 1/2 Dask workers joined within ready_timeout (60 s)');
    expect(wf.testStore.clock.now().getTime() - Date.parse(wf.cluster.createdAt)).toBe(60_000);
  });

  it('waits for the notebook Jupyter server too when the cluster has a notebook', async () => {
    await wf.testStore.store.update(wf.cluster.id, {
      changes: {
        roleInstances: {
          notebook: [{ id: 'i-0notebook', role: 'notebook', index: 0, privateIp: '10.0.0.9' }],
        },
      },
    });
    await wf.deps().secrets.put(wf.cluster.id, 'jupyter-token', 'tok-0123456789');
    const looks: Array<ProbeRequest | undefined> = [];
    let look = 0;
    const probe: ReadinessProbe = {
      look: async (requests) => {
        looks.push(requests.notebook);
        look += 1;
        return daskAnswers(true, 2, look > 2);
      },
    };

    const out = await probeReady({ clusterId: wf.cluster.id }, probeDeps(probe));

    expect(out.ready).toBe(true);
    const withToken = {
      url: 'http://10.0.0.9:8888/api/status',
      headers: { Authorization: 'token tok-0123456789' },
    };
    expect(looks).toEqual([withToken, withToken, withToken]);
  });

  it("is not ready while the notebook refuses the cluster's token, and says so past the deadline", async () => {
    await wf.testStore.store.update(wf.cluster.id, {
      changes: {
        roleInstances: {
          notebook: [{ id: 'i-0notebook', role: 'notebook', index: 0, privateIp: '10.0.0.9' }],
        },
      },
    });
    await wf.deps().secrets.put(wf.cluster.id, 'jupyter-token', 'tok-0123456789');
    const probe: ReadinessProbe = { look: async () => daskAnswers(true, 2, false) };
    wf.testStore.clock.advance(55_000);

    await expect(probeReady({ clusterId: wf.cluster.id }, probeDeps(probe))).rejects.toThrow(
      "the notebook (Jupyter) refused the cluster's token within ready_timeout (60 s)",
    );
  });

  it('looks from inside the network when told to, and otherwise where people look', async () => {
    await wf.testStore.store.update(wf.cluster.id, {
      changes: {
        roleInstances: {
          scheduler: [
            {
              id: 'i-0scheduler',
              role: 'scheduler',
              index: 0,
              privateIp: '10.0.0.7',
              publicIp: '203.0.113.7',
            },
          ],
        },
      },
    });
    const probe = scriptedProbe([true, 2]);

    await probeReady({ clusterId: wf.cluster.id }, probeDeps(probe, { network: 'public' }));
    await probeReady({ clusterId: wf.cluster.id }, probeDeps(probe));

    expect(probe.look.mock.calls.map(([urls]) => urls.health)).toEqual([
      'http://203.0.113.7:8787/health',
      'http://10.0.0.7:8787/health',
    ]);
  });
});

describe('recordReady', () => {
  it('moves CREATING to READY with the time it took and where to look', async () => {
    await wf.testStore.store.update(wf.cluster.id, {
      changes: { dashboardUrl: 'http://203.0.113.7:8787', notebookUrl: 'http://203.0.113.8:8888' },
    });
    wf.testStore.clock.advance(42_000);

    const out = await recordReady(
      { clusterId: wf.cluster.id },
      { store: wf.testStore.store, clock: wf.testStore.clock },
    );

    expect(out).toEqual({ state: 'READY', seconds: 42 });
    expect(await latest()).toMatchObject({ state: 'READY', readyAt: wf.testStore.clock.now().toISOString() });
    expect((await eventsOf('record-ready'))[0]?.message).toBe(
      'ready in 42.0 s: dashboard http://203.0.113.7:8787, notebook http://203.0.113.8:8888',
    );
  });

  it('answers READY again when retried after it succeeded, changing nothing', async () => {
    const recordDeps = { store: wf.testStore.store, clock: wf.testStore.clock };
    await recordReady({ clusterId: wf.cluster.id }, recordDeps);
    const ready = await latest();
    wf.testStore.clock.advance(5_000);

    const retried = await recordReady({ clusterId: wf.cluster.id }, recordDeps);

    expect(retried).toEqual({ state: 'READY', seconds: 0 });
    expect(await latest()).toEqual(ready);
  });
});
