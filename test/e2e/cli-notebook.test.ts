/**
 * Notebooks on the local control plane, as a user reaches them: the CLI
 * creates clusters whose roles follow the profile (notebook and Dask,
 * notebook only, Dask only, nothing), the notebook is a real Jupyter
 * server, `bilbo notebook -u` gives a URL whose token logs in, and a Dask
 * client started with the environment Jupyter gives its kernels connects
 * with no address.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../schemas/types.generated.ts';
import { environmentOfGroupMember } from '../support/dask-processes.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const run = promisify(execFile);
let harness: TestControlPlane;

const PROFILES = {
  'notebook-dask': { dask: { worker: { count: 1, nproc: 1, nthread: 1 } }, notebook: {} },
  'notebook-only': { notebook: { workdir: '~/analysis' } },
  'dask-only': { dask: { worker: { count: 1, nproc: 1, nthread: 1 } } },
  nothing: { instance: { ec2type: 't3.large' } },
};

beforeAll(async () => {
  harness = await startTestControlPlane();
  mkdirSync(join(harness.home, 'profiles'));
  for (const [name, profile] of Object.entries(PROFILES)) {
    writeFileSync(join(harness.home, 'profiles', `${name}.json`), JSON.stringify(profile));
  }
});

afterAll(async () => {
  await harness?.stop();
});

async function created(profile: keyof typeof PROFILES): Promise<Cluster> {
  const answer = await harness.bilbo('create', profile, '--json');
  expect(answer.code, answer.stderr).toBe(0);
  return JSON.parse(answer.stdout) as Cluster;
}

/** The environment of a cluster's Jupyter server: what every kernel it starts inherits. */
async function jupyterEnvironment(cluster: Cluster): Promise<Record<string, string>> {
  const notebook = cluster.instances?.find((instance) => instance.role === 'notebook');
  const record = await harness.plane.processes!.registry.load(notebook!.id);
  return environmentOfGroupMember(record!.pgid, 'jupyter_server');
}

/** Jupyter's status page with the URL's token, and without any. */
async function statusWithAndWithout(url: string): Promise<[number, number]> {
  const link = new URL(url);
  const token = link.searchParams.get('token') ?? '';
  const withToken = await fetch(`${link.origin}/api/status?token=${encodeURIComponent(token)}`);
  const without = await fetch(`${link.origin}/api/status`);
  return [withToken.status, without.status];
}

describe('notebooks on the local control plane', () => {
  it('runs a notebook beside Dask: its URL logs in, and a client in its environment connects with no address', async () => {
    const cluster = await created('notebook-dask');
    expect(cluster.instances?.map((instance) => instance.role).sort()).toEqual([
      'notebook',
      'scheduler',
      'worker',
    ]);
    expect(cluster.notebookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const link = await harness.bilbo('notebook', 'notebook-dask', '-u');
    expect(link.code, link.stderr).toBe(0);
    const url = link.stdout.trim();
    expect(url).toMatch(new RegExp(`^${cluster.notebookUrl}/\\?token=[\\w-]{32,}$`));
    expect(await statusWithAndWithout(url)).toEqual([200, 403]);

    const env = await jupyterEnvironment(cluster);
    expect(env.DASK_SCHEDULER_ADDRESS).toBe(cluster.schedulerAddress);
    const { stdout } = await run(
      '/usr/bin/python3',
      [
        '-c',
        'from distributed import Client\nwith Client(timeout=20) as c:\n    print(c.submit(sum, range(10)).result())',
      ],
      { env: { PATH: process.env.PATH ?? '', DASK_SCHEDULER_ADDRESS: env.DASK_SCHEDULER_ADDRESS! } },
    );
    expect(stdout.trim()).toBe('45');
  });

  it('runs a notebook alone: one instance, no scheduler, in the profile’s workdir', async () => {
    const cluster = await created('notebook-only');
    expect(cluster.instances?.map((instance) => instance.role)).toEqual(['notebook']);
    expect(cluster.schedulerAddress).toBeUndefined();
    expect(cluster.dashboardUrl).toBeUndefined();
    const ready = (await harness.api.events('notebook-only')).find((event) => event.step === 'record-ready');
    expect(ready?.message).toMatch(new RegExp(`^ready in [\\d.]+ s: notebook ${cluster.notebookUrl}$`));

    const link = await harness.bilbo('notebook', 'notebook-only', '-u', '--json');
    expect(link.code, link.stderr).toBe(0);
    expect(await statusWithAndWithout((JSON.parse(link.stdout) as { url: string }).url)).toEqual([200, 403]);
    const env = await jupyterEnvironment(cluster);
    expect(env).not.toHaveProperty('DASK_SCHEDULER_ADDRESS');
    const pwd = await harness.bilbo('rcmd', 'notebook-only', 'notebook', 'pwd');
    expect(pwd.stdout.trim()).toMatch(/\/analysis$/);
  });

  it('says a Dask-only cluster has no notebook, and exits 1', async () => {
    await created('dask-only');

    const link = await harness.bilbo('notebook', 'dask-only', '-u');

    expect(link.code).toBe(1);
    expect(link.stdout).toBe('');
    expect(link.stderr).toMatch(/has no notebook: its profile has no "notebook" section/);
  });

  it('plans and creates nothing for a profile with neither section', async () => {
    const plan = await harness.bilbo('plan', 'nothing');
    const create = await harness.bilbo('create', 'nothing');

    expect(plan.stdout).toContain('Nothing to do.');
    expect(create.code).toBe(1);
    expect(create.stderr).toContain('Nothing to do.');
  });

  it('destroys them all, leaving no Jupyter or Dask process behind', async () => {
    for (const name of ['notebook-dask', 'notebook-only', 'dask-only']) {
      const destroyed = await harness.bilbo('destroy', name, '-f');
      expect(destroyed.code, destroyed.stderr).toBe(0);
    }
    expect(await harness.liveProcesses()).toEqual([]);
  });
});
