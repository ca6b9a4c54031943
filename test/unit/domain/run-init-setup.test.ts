/**
 * The kind's setup commands in the create's init step: a notebook's git
 * clones run before its init_cmd, as the service user in its workdir, each
 * a record and an event; a failed clone skips nothing else, and the role's
 * init_fail says whether it fails the create.
 */
import { describe, expect, it } from 'vitest';
import { LocalPreflight } from '../../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../../lambdas/adapters/local/machine-catalog.ts';
import { MemoryClusterStore } from '../../../lambdas/adapters/memory/cluster-store.ts';
import { MemoryCommandStore } from '../../../lambdas/adapters/memory/command-store.ts';
import { SecretPaths } from '../../../lambdas/adapters/ssm/secret-names.ts';
import { InitCommandFailedError } from '../../../lambdas/domain/errors.ts';
import { GIT_ENV } from '../../../lambdas/domain/kinds/dask/git.ts';
import { newClusterRecord } from '../../../lambdas/domain/use-cases/create-cluster.ts';
import { prepareCluster } from '../../../lambdas/domain/use-cases/prepare-cluster.ts';
import type { RunInitDeps } from '../../../lambdas/domain/workflow/run-init.ts';
import type { Profile } from '../../../schemas/types.generated.ts';
import { DASK_PROGRAMS } from '../../support/dask-launch.ts';
import { fakeClock } from '../../support/fake-clock.ts';
import { type ScriptedInvocation, ScriptedRemote } from '../../support/fake-remote.ts';
import { runInitToTheEnd } from '../../support/run-init-loop.ts';

const PASSWORD = 'not-a-real-token-7c1e';
const MODELS = 'https://github.com/acme/models.git';
const ETL = 'https://gitlab.example.com/acme/etl.git';

function profile(initFail: 'warn' | 'fail'): Profile {
  return {
    instance: { init_cmd: ['echo after'], init_fail: initFail },
    notebook: {
      workdir: '~/notebooks',
      git: { repository: [MODELS, ETL], user: 'someone', email: 'someone@example.com', password: PASSWORD },
    },
  };
}

async function world(given: Profile, outcome: (repository: string | undefined) => ScriptedInvocation) {
  const clock = fakeClock();
  const store = new MemoryClusterStore({ clock });
  const { plan } = await prepareCluster(
    { name: 'analytics', profile: given },
    {
      catalog: new LocalMachineCatalog({ facts: { vcpus: 2, threadsPerCore: 1, memoryMiB: 4096 } }),
      preflight: new LocalPreflight(DASK_PROGRAMS),
    },
  );
  const cluster = newClusterRecord({
    id: 'c-0000000000000001',
    name: 'analytics',
    owner: 'arn:aws:iam::123456789012:user/alice',
    plan,
    now: clock.now(),
  });
  await store.create(cluster, { step: 'accepted', message: 'create requested' });
  await store.update(cluster.id, {
    changes: { roleInstances: { notebook: [{ id: 'i-n', role: 'notebook', index: 0 }] } },
  });
  const remote = new ScriptedRemote((_instance, script) => outcome(script?.env?.[GIT_ENV.repository]));
  const commands = new MemoryCommandStore();
  const deps: RunInitDeps = { store, commands, remote, clock, secrets: new SecretPaths() };
  const loop = () => runInitToTheEnd(cluster.id, deps, clock, 20);
  const events = async () =>
    (await store.events(cluster.id)).filter((e) => e.step.startsWith('init-')).map((e) => e.message);
  return { cluster, remote, commands, store, loop, events };
}

const notFound = (repository: string | undefined): ScriptedInvocation =>
  repository === MODELS
    ? { exitCode: 128, stderr: `fatal: repository '${MODELS}/' not found\n` }
    : { stdout: '' };

describe('runInit with a notebook’s git clones', () => {
  it('clones each repository before the init_cmd, as the service user in the workdir, the password by name', async () => {
    const { remote, events, loop } = await world(profile('warn'), () => ({}));

    await loop();

    expect(
      remote.sent.map(({ script }) => [script.env?.[GIT_ENV.repository] ?? script.script, script.user]),
    ).toEqual([
      [MODELS, undefined],
      [ETL, undefined],
      ['echo after', 'root'],
    ]);
    for (const { script } of remote.sent.slice(0, 2)) {
      expect(script).toMatchObject({
        workdir: 'notebooks',
        comment: 'bilbo setup on analytics',
        secretEnv: { [GIT_ENV.password]: '/bilbo/clusters/c-0000000000000001/git-password' },
      });
    }
    expect(await events()).toEqual([
      `git clone ${MODELS} exited 0 on the notebook`,
      `git clone ${ETL} exited 0 on the notebook`,
      'init_cmd "echo after" exited 0 on the notebook',
    ]);
  });

  it('under init_fail "warn": a failed clone is an event, and the next clone and the init_cmd still run', async () => {
    const { cluster, commands, store, events, loop } = await world(profile('warn'), notFound);

    await loop();

    expect(await events()).toEqual([
      `git clone ${MODELS} exited 128 on notebook i-n: fatal: repository '${MODELS}/' not found`,
      `git clone ${ETL} exited 0 on the notebook`,
      'init_cmd "echo after" exited 0 on the notebook',
    ]);
    const records = await commands.listCommands(cluster.id);
    expect(records.map((record) => [record.kind, record.what, record.state])).toEqual([
      ['init', 'echo after', 'SUCCEEDED'],
      ['init', `git clone ${ETL}`, 'SUCCEEDED'],
      ['init', `git clone ${MODELS}`, 'FAILED'],
    ]);
    const everything = JSON.stringify([records, await store.events(cluster.id), await store.get(cluster.id)]);
    expect(everything).not.toContain(PASSWORD);
  });

  it('under init_fail "fail": a failed clone fails the create, naming the repository', async () => {
    const { remote, loop } = await world(profile('fail'), notFound);

    await expect(loop()).rejects.toThrow(InitCommandFailedError);
    await expect(loop()).rejects.toThrow(
      `git clone ${MODELS} exited 128 on notebook i-n: fatal: repository '${MODELS}/' not found; the notebook's init_fail is "fail"`,
    );
    expect(remote.sent).toHaveLength(1);
  });
});
