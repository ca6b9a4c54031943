/**
 * The create's init step over SSM Run Command, with SSM mocked in its own
 * shapes: what SendCommand is given (the order, the instances, the user the
 * wrapper runs each command as) and how SSM's answers become events.
 */
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalPreflight } from '../../../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../../../lambdas/adapters/local/machine-catalog.ts';
import { MemoryClusterStore } from '../../../../lambdas/adapters/memory/cluster-store.ts';
import { MemoryCommandStore } from '../../../../lambdas/adapters/memory/command-store.ts';
import { SecretPaths } from '../../../../lambdas/adapters/ssm/secret-names.ts';
import { InitCommandFailedError } from '../../../../lambdas/domain/errors.ts';
import { newClusterRecord } from '../../../../lambdas/domain/use-cases/create-cluster.ts';
import { prepareCluster } from '../../../../lambdas/domain/use-cases/prepare-cluster.ts';
import type { RunInitDeps } from '../../../../lambdas/domain/workflow/run-init.ts';
import type { Profile } from '../../../../schemas/types.generated.ts';
import { DASK_PROGRAMS } from '../../../support/dask-launch.ts';
import { fakeClock } from '../../../support/fake-clock.ts';
import { runInitToTheEnd } from '../../../support/run-init-loop.ts';
import { mockSsm, type SsmMock } from '../../../support/ssm-mock.ts';
import { instance, runnerOver } from './fixtures.ts';

const SCHEDULER = instance(1, 'scheduler');
const WORKERS = [instance(2), instance(3)].map((worker, index) => ({ ...worker, index }));
const NOTEBOOK = { ...instance(4, 'notebook'), index: 0 };

let ssm: SsmMock;
beforeEach(() => {
  ssm = mockSsm();
});
afterEach(() => ssm.restore());

async function world(profile: Profile) {
  const clock = fakeClock();
  const store = new MemoryClusterStore({ clock });
  const { plan } = await prepareCluster(
    { name: 'analytics', profile },
    {
      catalog: new LocalMachineCatalog({ facts: { vcpus: 2, threadsPerCore: 1, memoryMiB: 4096 } }),
      preflight: new LocalPreflight(DASK_PROGRAMS),
    },
  );
  const cluster = newClusterRecord({
    id: 'c-00000000000000a1',
    name: 'analytics',
    owner: 'arn:aws:iam::123456789012:user/alice',
    plan,
    now: clock.now(),
  });
  await store.create(cluster, { step: 'accepted', message: 'create requested' });
  await store.update(cluster.id, {
    changes: { roleInstances: { scheduler: [SCHEDULER], worker: WORKERS, notebook: [NOTEBOOK] } },
  });
  const deps: RunInitDeps = {
    store,
    commands: new MemoryCommandStore(),
    remote: runnerOver(ssm, { clock }),
    clock,
    secrets: new SecretPaths(),
  };
  const loop = () => runInitToTheEnd(cluster.id, deps, clock, 40);
  const events = async () =>
    (await store.events(cluster.id)).filter((event) => event.step.startsWith('init-')).map((e) => e.message);
  return { loop, events };
}

/** The user's script inside the wrapper SSM runs: its first staged file. */
function stagedScript(wrapper: string): string {
  const staged =
    /base64 -d <<'BILBO_B64' \| gzip -dc >"\$stage\/script"\n([A-Za-z0-9+/=\n]*?)\nBILBO_B64/.exec(wrapper);
  if (!staged) throw new Error('no staged script in the wrapper');
  return gunzipSync(Buffer.from(staged[1]!.replace(/\n/g, ''), 'base64')).toString('utf8');
}

const PROFILE: Profile = {
  instance: { init_cmd: ['yum install -y htop'] },
  dask: { worker: { count: 2, instance: { init_cmd: ['pip install pandas', 'echo done'] } } },
};

describe('init commands over SSM Run Command', () => {
  it('sends each command in order, one at a time, to every instance of its role, run as root', async () => {
    const { loop, events } = await world(PROFILE);

    await loop();

    const sends = ssm.inputsOf('SendCommand');
    expect(sends.map((input) => [stagedScript(input.Parameters!.commands![0]!), input.InstanceIds])).toEqual([
      ['yum install -y htop', [SCHEDULER.id]],
      ['pip install pandas', WORKERS.map((worker) => worker.id)],
      ['echo done', WORKERS.map((worker) => worker.id)],
    ]);
    for (const input of sends) {
      expect(input.Parameters!.commands![0]).toContain("run_as='root'\n");
      expect(input.DocumentName).toBe('AWS-RunShellScript');
      expect(input.Comment).toBe('bilbo init_cmd on analytics');
      // Each may run until the create's deadline (ready_timeout 600 s from the create).
      expect(Number(input.Parameters!.executionTimeout![0])).toBeLessThanOrEqual(600);
    }
    expect(await events()).toEqual([
      'init_cmd "yum install -y htop" exited 0 on the scheduler',
      'init_cmd "pip install pandas" exited 0 on 2 workers',
      'init_cmd "echo done" exited 0 on 2 workers',
    ]);
  });

  it("records SSM's exit code and output of a failed invocation, and sends none of the role's later commands", async () => {
    ssm.state.program(WORKERS[1]!.id, { final: 'Failed', exitCode: 3, stderr: 'No matching distribution\n' });
    const { loop, events } = await world(PROFILE);

    await loop();

    expect(ssm.inputsOf('SendCommand').map((input) => stagedScript(input.Parameters!.commands![0]!))).toEqual(
      ['yum install -y htop', 'pip install pandas'],
    );
    expect((await events()).at(-1)).toBe(
      `init_cmd "pip install pandas" exited 3 on worker ${WORKERS[1]!.id} (1 of 2 workers): No matching distribution; the worker's 1 next init command not run`,
    );
  });

  it('fails the create under init_fail "fail", naming the role, the command and the exit code', async () => {
    ssm.state.program(SCHEDULER.id, { final: 'Failed', exitCode: 127, stderr: 'yum: command not found\n' });
    const { loop } = await world({ ...PROFILE, instance: { ...PROFILE.instance, init_fail: 'fail' } });

    await expect(loop()).rejects.toThrow(InitCommandFailedError);
    await expect(loop()).rejects.toThrow(
      `init_cmd "yum install -y htop" exited 127 on scheduler ${SCHEDULER.id}: yum: command not found; the scheduler's init_fail is "fail"`,
    );
    expect(ssm.callsOf('SendCommand')).toBe(1);
  });
});

describe("a notebook's git clones over SSM Run Command", () => {
  const password = 'not-a-real-token-51d0';
  const repository = 'https://github.com/acme/models.git';

  it('sends each clone as the dask user in the workdir, naming the password’s parameter and never its value', async () => {
    const { loop, events } = await world({
      notebook: { git: { repository, user: 'someone', email: 'someone@example.com', password } },
    });

    await loop();

    const [send, ...others] = ssm.inputsOf('SendCommand');
    expect(others).toEqual([]);
    expect(send!.InstanceIds).toEqual([NOTEBOOK.id]);
    expect(send!.Comment).toBe('bilbo setup on analytics');
    const wrapper = send!.Parameters!.commands![0]!;
    expect(wrapper).toContain("run_as='dask'\n");
    expect(wrapper).toContain("workdir='/home/dask/works'\n");
    expect(wrapper).toContain(`'BILBO_GIT_PASSWORD=/bilbo/clusters/c-00000000000000a1/git-password'`);
    expect(wrapper).toContain("'/opt/bilbo/venv/bin/python' \"$stage/read-secrets.py\" 'eu-west-1'");
    expect(JSON.stringify(send)).not.toContain(password);
    expect(JSON.stringify(send)).not.toContain(repository);
    expect(await events()).toEqual([`git clone ${repository} exited 0 on the notebook`]);
  });
});
