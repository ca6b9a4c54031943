/**
 * The local notebook: a real Jupyter server (Debian's jupyter_server),
 * started by the local provider as the Dask kind says, its token read from
 * the secret store. No kernel is started: the server's own API tells what
 * it was given.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalPreflight } from '../../lambdas/adapters/local/local-preflight.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import { ProvisioningError } from '../../lambdas/domain/errors.ts';
import type { Machine, RoleBootstrap } from '../../lambdas/domain/ports.ts';
import type { Plan } from '../../schemas/types.generated.ts';
import { DASK_PROGRAMS, launchRequest } from '../support/dask-launch.ts';
import { environmentOfGroupMember } from '../support/dask-processes.ts';

const TOKEN = 'tok-3f1c9a0b8e7d6c5b4a39281706f5e4d3';
const SCHEDULER = 'tcp://127.0.0.1:40999';

let stateDir: string;
let secrets: MemorySecretStore;
let provider: LocalProcessProvider;

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'bilbo-local-notebook-'));
  secrets = new MemorySecretStore();
  provider = new LocalProcessProvider({ stateDir, programs: DASK_PROGRAMS, secrets });
});

afterEach(async () => {
  const records = await provider.registry.list();
  await provider.terminate(records.map((record) => record.id));
});

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

function notebookBootstrap(clusterId: string, schedulerAddress?: string): RoleBootstrap {
  return {
    kind: 'dask',
    ...(schedulerAddress ? { schedulerAddress } : {}),
    notebook: { workdir: '~/works/analysis' },
    secrets: { jupyterToken: secrets.nameOf(clusterId, 'jupyter-token') },
  };
}

async function launchNotebook(schedulerAddress?: string): Promise<Machine> {
  const request = launchRequest({ role: 'notebook' });
  await secrets.put(request.clusterId, 'jupyter-token', TOKEN);
  const [notebook] = await provider.launch({
    ...request,
    bootstrap: notebookBootstrap(request.clusterId, schedulerAddress),
  });
  if (!notebook) throw new Error('no notebook launched');
  return notebook;
}

/** The environment of the group's Jupyter process, as the kernel it starts would inherit it. */
const jupyterEnvironment = (pgid: number) => environmentOfGroupMember(pgid, 'jupyter_server');

describe('a local notebook', () => {
  it('answers its status to the cluster token and 403 without it, and knows the scheduler', async () => {
    const notebook = await launchNotebook(SCHEDULER);
    const url = `http://${notebook.privateIp}:${notebook.ports?.notebook}`;
    const record = await provider.registry.load(notebook.id);

    const withToken = await fetch(`${url}/api/status`, { headers: { Authorization: `token ${TOKEN}` } });
    const without = await fetch(`${url}/api/status`);
    const wrong = await fetch(`${url}/api/status`, { headers: { Authorization: 'token nope' } });

    expect(withToken.status).toBe(200);
    expect(await withToken.json()).toMatchObject({ started: expect.any(String), kernels: 0 });
    expect(without.status).toBe(403);
    expect(wrong.status).toBe(403);
    const env = jupyterEnvironment(record!.pgid);
    expect(env.DASK_SCHEDULER_ADDRESS).toBe(SCHEDULER);
    expect(env.JUPYTER_TOKEN).toBe(TOKEN);
    // It serves the notebook's workdir, inside the instance's own folder.
    expect(record!.processDir).toBe(join(record!.workDir, 'works', 'analysis'));
    const contents = await fetch(`${url}/api/contents`, { headers: { Authorization: `token ${TOKEN}` } });
    expect(await contents.json()).toMatchObject({ type: 'directory', path: '' });
  });

  it('keeps the token out of its arguments, its record and its log', async () => {
    const notebook = await launchNotebook();
    const record = await provider.registry.load(notebook.id);
    const recordFile = readFileSync(join(provider.registry.dir, `${notebook.id}.json`), 'utf8');

    expect(record!.command.join(' ')).not.toContain(TOKEN);
    expect(recordFile).not.toContain(TOKEN);
    expect(readFileSync(record!.logFile, 'utf8')).not.toContain(TOKEN);
    expect(jupyterEnvironment(record!.pgid)).not.toHaveProperty('DASK_SCHEDULER_ADDRESS');
  });

  it('listens on the same port again after a restart, with the token still required', async () => {
    const notebook = await launchNotebook(SCHEDULER);
    const port = notebook.ports?.notebook;

    await provider.restart([notebook.id]);

    const url = `http://${notebook.privateIp}:${port}/api/status`;
    expect((await fetch(url, { headers: { Authorization: `token ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(url)).status).toBe(403);
  });

  it('does not start without its token, and says which secret is missing', async () => {
    const request = launchRequest({ role: 'notebook' });

    await expect(
      provider.launch({ ...request, bootstrap: notebookBootstrap(request.clusterId) }),
    ).rejects.toThrow(ProvisioningError);
    await expect(
      provider.launch({ ...request, bootstrap: notebookBootstrap(request.clusterId) }),
    ).rejects.toThrow(
      `its secret ${secrets.nameOf(request.clusterId, 'jupyter-token')} (for JUPYTER_TOKEN) is not stored`,
    );
    expect(await provider.findByCluster(request.clusterId)).toEqual([]);
  });
});

describe('the local preflight', () => {
  const plan = (...roles: Plan['roles'][number]['role'][]) =>
    ({ kind: 'dask', roles: roles.map((role) => ({ role })) }) as unknown as Plan;

  it("lets a notebook through where this machine's python has a Jupyter server", async () => {
    await expect(
      new LocalPreflight(DASK_PROGRAMS).check(plan('scheduler', 'worker', 'notebook')),
    ).resolves.toBeUndefined();
  });

  it('refuses a notebook, naming the module and the package, where the python cannot import it', async () => {
    const preflight = new LocalPreflight({ python: '/nonexistent/python3' });

    await expect(preflight.check(plan('scheduler', 'notebook'))).rejects.toThrow(ProvisioningError);
    await expect(preflight.check(plan('notebook'))).rejects.toThrow(
      /notebook needs Python's jupyter_server .*\/nonexistent\/python3 cannot import it: install it \(apt-get install python3-nbclassic\)/,
    );
    // Dask alone needs nothing more than the plane found at start.
    await expect(preflight.check(plan('scheduler', 'worker'))).resolves.toBeUndefined();
  });
});
