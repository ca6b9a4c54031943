import { describe, expect, it } from 'vitest';
import { LocalPreflight } from '../../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../../lambdas/adapters/local/machine-catalog.ts';
import { MemoryClusterStore } from '../../../lambdas/adapters/memory/cluster-store.ts';
import { MemoryCommandStore } from '../../../lambdas/adapters/memory/command-store.ts';
import { SecretPaths } from '../../../lambdas/adapters/ssm/secret-names.ts';
import { eventTail, initCommandId } from '../../../lambdas/domain/commands/init-commands.ts';
import { InitCommandFailedError } from '../../../lambdas/domain/errors.ts';
import { newClusterRecord } from '../../../lambdas/domain/use-cases/create-cluster.ts';
import { prepareCluster } from '../../../lambdas/domain/use-cases/prepare-cluster.ts';
import { type RunInitDeps, runInit } from '../../../lambdas/domain/workflow/run-init.ts';
import type { ClusterInstance, Profile } from '../../../schemas/types.generated.ts';
import { DASK_PROGRAMS } from '../../support/dask-launch.ts';
import { fakeClock } from '../../support/fake-clock.ts';
import { type ScriptedInvocation, ScriptedRemote } from '../../support/fake-remote.ts';

const OWNER = 'arn:aws:iam::123456789012:user/alice';
const INSTANCES: ClusterInstance[] = [
  { id: 'i-w1', role: 'worker', index: 1, privateIp: '10.0.0.12' },
  { id: 'i-s', role: 'scheduler', index: 0, privateIp: '10.0.0.4' },
  { id: 'i-w0', role: 'worker', index: 0, privateIp: '10.0.0.11' },
];
const catalog = new LocalMachineCatalog({ facts: { vcpus: 2, threadsPerCore: 1, memoryMiB: 4096 } });

/** Scheduler: the common list; workers: their own two commands. */
const PROFILE: Profile = {
  instance: { init_cmd: ['echo common'] },
  dask: { worker: { count: 2, nproc: 1, nthread: 1, instance: { init_cmd: ['pip install x', 'true'] } } },
  ready_timeout: 600,
};

async function world(
  profile: Profile,
  outcome: (instance: ClusterInstance, script: string) => ScriptedInvocation = () => ({}),
) {
  const clock = fakeClock();
  const store = new MemoryClusterStore({ clock });
  const { plan } = await prepareCluster(
    { name: 'analytics', profile },
    { catalog, preflight: new LocalPreflight(DASK_PROGRAMS) },
  );
  const cluster = newClusterRecord({
    id: 'c-0000000000000001',
    name: 'analytics',
    owner: OWNER,
    plan,
    now: clock.now(),
  });
  await store.create(cluster, { step: 'accepted', message: 'create requested' });
  await store.update(cluster.id, {
    changes: {
      roleInstances: {
        scheduler: INSTANCES.filter((i) => i.role === 'scheduler'),
        worker: INSTANCES.filter((i) => i.role === 'worker'),
      },
    },
  });
  const remote = new ScriptedRemote((instance, script) => outcome(instance, script?.script ?? ''));
  const commands = new MemoryCommandStore();
  const deps: RunInitDeps = { store, commands, remote, clock, secrets: new SecretPaths() };
  const events = async () =>
    (await store.events(cluster.id))
      .filter((e) => e.step.startsWith('init-'))
      .map((e) => [e.step, e.message]);
  /** The workflow's loop: look, and look again from the position it gave, until done. */
  const loop = async (looks = 20) => {
    let position: number | undefined;
    for (let i = 0; i < looks; i++) {
      const look = await runInit(
        { clusterId: cluster.id, ...(position === undefined ? {} : { position }) },
        deps,
      );
      if (look.done) return look;
      position = look.position;
      clock.advance(look.waitSeconds * 1000);
    }
    throw new Error(`not done after ${looks} looks`);
  };
  return { cluster, deps, remote, commands, clock, events, loop };
}

describe('runInit', () => {
  it('is done at once, sending nothing, when the profile has no init commands', async () => {
    const { cluster, deps, remote, events } = await world({ dask: {} });

    expect(await runInit({ clusterId: cluster.id }, deps)).toEqual({
      done: true,
      position: 0,
      waitSeconds: 0,
    });
    expect(remote.sent).toEqual([]);
    expect(await events()).toEqual([]);
  });

  it("runs each role's commands in order, the roles in launch order, as root on every instance of the role", async () => {
    const { remote, events, loop } = await world(PROFILE, () => ({ readsBeforeEnd: 1, stdout: 'done\n' }));

    await loop();

    expect(remote.sent.map((sent) => [sent.script.script, sent.instances.map((i) => i.id)])).toEqual([
      ['echo common', ['i-s']],
      ['pip install x', ['i-w0', 'i-w1']],
      ['true', ['i-w0', 'i-w1']],
    ]);
    for (const { script } of remote.sent) {
      expect(script).toMatchObject({ user: 'root', comment: 'bilbo init_cmd on analytics' });
      expect(script.workdir).toBeUndefined();
    }
    expect(await events()).toEqual([
      ['init-scheduler', 'init_cmd "echo common" exited 0 on the scheduler: done'],
      ['init-worker', 'init_cmd "pip install x" exited 0 on 2 workers: done'],
      ['init-worker', 'init_cmd "true" exited 0 on 2 workers: done'],
    ]);
  });

  it('starts the next command in the same look as the one before it ended', async () => {
    const { cluster, deps, remote } = await world(PROFILE);

    expect(await runInit({ clusterId: cluster.id }, deps)).toEqual({
      done: true,
      position: 3,
      waitSeconds: 0,
    });
    expect(remote.sent).toHaveLength(3);
  });

  it("keeps each command as a command record of kind init, listed with the cluster's commands, by the owner", async () => {
    const { cluster, commands, loop } = await world(PROFILE, (instance) =>
      instance.id === 'i-w1' ? { exitCode: 0, stdout: 'w1\n' } : {},
    );

    await loop();

    const listed = await commands.listCommands(cluster.id);
    expect(listed.map((c) => [c.kind, c.what, c.target, c.state, c.requestedBy])).toEqual([
      ['init', 'true', 'worker', 'SUCCEEDED', OWNER],
      ['init', 'pip install x', 'worker', 'SUCCEEDED', OWNER],
      ['init', 'echo common', 'scheduler', 'SUCCEEDED', OWNER],
    ]);
    expect(listed[0]!.invocations.map((i) => [i.instanceId, i.exitCode, i.outputTail])).toEqual([
      ['i-w0', 0, undefined],
      ['i-w1', 0, 'w1'],
    ]);
    expect(listed.at(-1)!.id).toBe(initCommandId(cluster, 0));
  });

  it('answers the position of the command still running, and a wait bounded by the deadline', async () => {
    const { cluster, deps, remote, clock } = await world(PROFILE, () => ({ readsBeforeEnd: 3 }));

    const first = await runInit({ clusterId: cluster.id }, deps);
    expect(first).toEqual({ done: false, position: 0, waitSeconds: 2 });

    clock.advance(599_500);
    const again = await runInit({ clusterId: cluster.id, position: 0 }, deps);
    expect(again).toMatchObject({ done: false, position: 0, waitSeconds: 1 });
    expect(remote.sent).toHaveLength(1);
  });

  it('sends a command once, however often a retried look asks for the same position', async () => {
    const { cluster, deps, remote } = await world(PROFILE, () => ({ readsBeforeEnd: 10 }));

    for (let i = 0; i < 3; i++) await runInit({ clusterId: cluster.id, position: 0 }, deps);

    expect(remote.sent.map((sent) => sent.commandId)).toEqual([initCommandId(cluster, 0)]);
  });

  describe('under init_fail "warn" (the default)', () => {
    it("records a failing command's exit code and output tail, skips the rest of its role's list, and goes on", async () => {
      const { cluster, commands, remote, events, loop } = await world(PROFILE, (instance, script) =>
        script === 'pip install x' && instance.id === 'i-w1'
          ? { exitCode: 3, stdout: 'Collecting x\n', stderr: '\u001b[31mERROR: no such package\u001b[0m\n' }
          : {},
      );

      expect(await loop()).toMatchObject({ done: true });

      expect(remote.sent.map((sent) => sent.script.script)).toEqual(['echo common', 'pip install x']);
      expect(await events()).toEqual([
        ['init-scheduler', 'init_cmd "echo common" exited 0 on the scheduler'],
        [
          'init-worker',
          'init_cmd "pip install x" exited 3 on worker i-w1 (1 of 2 workers): Collecting x | ERROR: no such package; the worker\'s 1 next init command not run',
        ],
      ]);
      const failed = await commands.getCommand(cluster.id, initCommandId(cluster, 1));
      expect(failed).toMatchObject({ state: 'FAILED', exitCode: 3 });
    });

    it('names an instance that did not run the command (its agent lost) and why', async () => {
      const { events, loop } = await world({ ...PROFILE, dask: {} }, () => ({
        state: 'lost',
        stderr: 'the SSM agent on i-s stopped answering',
      }));

      await loop();

      expect((await events())[0]).toEqual([
        'init-scheduler',
        'init_cmd "echo common" did not run on scheduler i-s: the SSM agent on i-s stopped answering',
      ]);
    });

    it('records a command that could not be sent as failed, and goes on', async () => {
      const { cluster, deps, commands, events } = await world(PROFILE);
      deps.remote.send = async () => {
        throw new Error('InvalidInstanceId: i-s is not registered');
      };

      expect(await runInit({ clusterId: cluster.id }, deps)).toMatchObject({ done: true });

      expect((await events())[0]).toEqual([
        'init-scheduler',
        'init_cmd "echo common" did not run on scheduler i-s: could not be sent: InvalidInstanceId: i-s is not registered',
      ]);
      expect(await commands.getCommand(cluster.id, initCommandId(cluster, 0))).toMatchObject({
        state: 'FAILED',
        reason: 'could not be sent: InvalidInstanceId: i-s is not registered',
      });
    });

    it("stops a command still running at the create's deadline, and starts no other after it", async () => {
      const { cluster, deps, remote, clock, events } = await world(PROFILE, (_instance, script) =>
        script === 'echo common' ? { readsBeforeEnd: 1_000 } : {},
      );
      await runInit({ clusterId: cluster.id }, deps);

      clock.advance(600_000);
      expect(await runInit({ clusterId: cluster.id, position: 0 }, deps)).toMatchObject({ done: true });

      expect(remote.cancelled).toEqual([`provider-${initCommandId(cluster, 0)}`]);
      expect(remote.sent).toHaveLength(1);
      expect(await events()).toEqual([
        [
          'init-scheduler',
          'init_cmd "echo common" did not end in time on scheduler i-s: still running at the create\'s deadline (ready_timeout 600 s): stopped',
        ],
        [
          'init-worker',
          'init_cmd "pip install x" did not end in time on worker i-w0 (2 of 2 workers): not started: the create\'s ready_timeout (600 s) had passed; the worker\'s 1 next init command not run',
        ],
      ]);
    });
  });

  describe('under init_fail "fail"', () => {
    const failing: Profile = { ...PROFILE, instance: { ...PROFILE.instance, init_fail: 'fail' } };

    it('fails the create, naming the role, the command and its exit code', async () => {
      const { cluster, deps, remote } = await world(failing, (_instance, script) =>
        script === 'echo common' ? { exitCode: 3, stdout: 'nope\n' } : {},
      );

      await expect(runInit({ clusterId: cluster.id }, deps)).rejects.toThrow(InitCommandFailedError);
      await expect(runInit({ clusterId: cluster.id }, deps)).rejects.toThrow(
        'init_cmd "echo common" exited 3 on scheduler i-s: nope; the scheduler\'s init_fail is "fail"',
      );
      expect(remote.sent).toHaveLength(1);
    });

    it("takes the role's own init_fail over the common one", async () => {
      const mixed: Profile = {
        ...failing,
        dask: {
          worker: {
            count: 2,
            nproc: 1,
            nthread: 1,
            instance: { init_cmd: ['exit 3', 'true'], init_fail: 'warn' },
          },
        },
      };
      const { events, loop } = await world(mixed, (_instance, script) =>
        script === 'exit 3' ? { exitCode: 3 } : {},
      );

      expect(await loop()).toMatchObject({ done: true });
      expect((await events()).at(-1)?.[1]).toMatch(
        /^init_cmd "exit 3" exited 3 on worker i-w0 \(2 of 2 workers\)/,
      );
    });

    it("fails the create when a command is still running at the create's deadline", async () => {
      const { cluster, deps, clock } = await world(failing, () => ({ readsBeforeEnd: 1_000 }));
      await runInit({ clusterId: cluster.id }, deps);

      clock.advance(600_000);
      await expect(runInit({ clusterId: cluster.id, position: 0 }, deps)).rejects.toThrow(
        /^init_cmd "echo common" did not end in time on scheduler i-s: still running at the create's deadline/,
      );
    });
  });
});

describe('eventTail', () => {
  it('drops terminal escape sequences, joins the lines and keeps the end of long output', () => {
    expect(eventTail('\u001b[1mbold\u001b[0m\r\nnext\n\n')).toBe('bold | next');
    expect(eventTail('\u001b]0;title\u0007after')).toBe('after');
    expect(eventTail('bell\u0007')).toBe('bell\\u0007');
    const long = eventTail(`start ${'x'.repeat(400)} end`);
    expect(long).toHaveLength(301);
    expect(long.startsWith('…')).toBe(true);
    expect(long.endsWith(' end')).toBe(true);
  });
});
