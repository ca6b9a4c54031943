/**
 * A notebook's git clones on a real local cluster: the synthesized create
 * workflow, a real Jupyter server, real git cloning over HTTPS from a
 * loopback server (git http-backend behind basic authentication). The
 * password reaches git only through bilbo's credential helper; a failed
 * clone is an event and the cluster is READY (init_fail "warn"); the
 * password is in no event, record, `desc -d`, clone or credential store.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkUnsavedWork } from '../../cli/unsaved-work-check.ts';
import type { Cluster, Profile } from '../../schemas/types.generated.ts';
import { type GitHttpsServer, startGitHttpsServer } from '../support/git-https-server.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const USER = 'ml-bot';
const EMAIL = 'ml-bot@example.com';
const PASSWORD = 'token-5ee1c0de-not-real';
const WRONG = 'token-wrong-0ff1ce';

let remote: GitHttpsServer;
let harness: TestControlPlane;
let scratch: string;
let strayStore: string;
const saved: Record<string, string | undefined> = {};

/** Git's environment for every git the plane runs: the loopback certificate, and a user config with a credential store that must never be used. */
function setGitEnvironment(env: Record<string, string>): void {
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
}

beforeAll(async () => {
  remote = await startGitHttpsServer({ user: USER, password: PASSWORD });
  remote.addRepository('models', { 'README.md': '# models\n' });
  scratch = mkdtempSync(join(tmpdir(), 'bilbo-git-e2e-'));
  strayStore = join(scratch, 'stray-credentials');
  const globalConfig = join(scratch, 'gitconfig');
  writeFileSync(globalConfig, `[credential]\n\thelper = store --file=${strayStore}\n`);
  setGitEnvironment({
    GIT_SSL_CAINFO: remote.caFile,
    GIT_CONFIG_GLOBAL: globalConfig,
    GIT_CONFIG_NOSYSTEM: '1',
  });
  harness = await startTestControlPlane();
});

afterAll(async () => {
  await harness?.stop();
  await remote?.stop();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function profile(password: string, repository: [string] | [string, string]): Profile {
  return {
    notebook: { git: { repository, user: USER, email: EMAIL, password } },
    ready_timeout: 120,
  };
}

async function createAndSettle(name: string, given: Profile): Promise<Cluster> {
  await harness.api.createCluster({ name, profile: given });
  await harness.plane.runner.waitForIdle();
  return harness.api.getCluster(name);
}

async function initEvents(name: string): Promise<string[]> {
  return (await harness.api.events(name)).filter((e) => e.step === 'init-notebook').map((e) => e.message);
}

/** The notebook's workdir on this machine: `works` in its instance's folder. */
async function workdirOf(cluster: Cluster): Promise<string> {
  const notebook = cluster.instances!.find((instance) => instance.role === 'notebook')!;
  const record = await harness.plane.processes!.registry.load(notebook.id);
  return join(record!.workDir, 'works');
}

function gitIn(folder: string, ...args: string[]): string {
  return execFileSync('git', ['-C', folder, ...args], { encoding: 'utf8' }).trim();
}

const noWait = {
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  onInterrupt: () => () => {},
  now: () => Date.now(),
};

describe("a local notebook's git clones", () => {
  it('clones into the workdir with the password through the credential helper; a missing repository is an event, and the cluster is READY', async () => {
    const models = `${remote.origin}/models.git`;
    const absent = `${remote.origin}/absent.git`;

    const cluster = await createAndSettle('git-ok', profile(PASSWORD, [models, absent]));

    expect(cluster.state).toBe('READY');
    const notebookId = cluster.instances!.find((instance) => instance.role === 'notebook')!.id;
    expect(await initEvents('git-ok')).toEqual([
      `git clone ${models} exited 0 on the notebook`,
      expect.stringMatching(
        new RegExp(`^git clone ${absent} exited 128 on notebook ${notebookId}: .*${absent}.* not found`),
      ),
    ]);
    const clone = join(await workdirOf(cluster), 'models');
    expect(readFileSync(join(clone, 'README.md'), 'utf8')).toBe('# models\n');
    expect(gitIn(clone, 'config', '--local', 'user.name')).toBe(USER);
    expect(gitIn(clone, 'config', '--local', 'user.email')).toBe(EMAIL);
    expect(remote.counts.allowed).toBeGreaterThan(0);
    expect(remote.passwordsSeen.every((seen) => seen === PASSWORD)).toBe(true);

    // Nowhere but the secret store: not in the clone, a credential store, the record, the events or desc -d.
    expect(readFileSync(join(clone, '.git', 'config'), 'utf8')).not.toContain(PASSWORD);
    expect(existsSync(strayStore)).toBe(false);
    const desc = await harness.bilbo('desc', 'git-ok', '-d');
    expect(desc.code, desc.stderr).toBe(0);
    const everything = JSON.stringify([
      desc.stdout,
      await harness.api.getCluster('git-ok'),
      await harness.api.events('git-ok'),
      await harness.api.listCommands('git-ok'),
    ]);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).toContain(`git clone ${models}`);

    // Destroy's unsaved-work check sees the clone.
    writeFileSync(join(clone, 'draft.ipynb'), '{}\n');
    const outcome = await checkUnsavedWork(noWait, harness.api, await harness.api.getCluster('git-ok'));
    expect(outcome).toMatchObject({
      kind: 'found',
      report: { findings: [{ repository: 'models', kind: 'untracked', count: 1 }] },
    });

    await harness.api.destroyCluster('git-ok');
    await harness.plane.runner.waitForIdle();
  });

  it('with a wrong password: the clone fails, saying so without the password, and the cluster is READY', async () => {
    const models = `${remote.origin}/models.git`;
    const refusedBefore = remote.counts.refused;

    const cluster = await createAndSettle('git-wrong', profile(WRONG, [models]));

    expect(cluster.state).toBe('READY');
    const [event, ...rest] = await initEvents('git-wrong');
    expect(rest).toEqual([]);
    expect(event).toMatch(
      new RegExp(`^git clone ${models} exited 128 on notebook \\S+: .*Authentication failed`),
    );
    expect(remote.counts.refused).toBeGreaterThan(refusedBefore);
    expect(remote.passwordsSeen).toContain(WRONG);
    expect(existsSync(join(await workdirOf(cluster), 'models'))).toBe(false);
    const everything = JSON.stringify([
      await harness.api.events('git-wrong'),
      await harness.api.listCommands('git-wrong'),
    ]);
    expect(everything).not.toContain(WRONG);

    await harness.api.destroyCluster('git-wrong');
    await harness.plane.runner.waitForIdle();
  });
});
