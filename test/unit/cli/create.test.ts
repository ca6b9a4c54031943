import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRun } from '../../../cli/commands/create.ts';
import { CancelledError, ClusterFailedError } from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import { InvalidClusterNameError, ValidationError } from '../../../lambdas/domain/errors.ts';
import { aCluster, anEvent, fakeFactory, NOTEBOOK_TOKEN, readyCluster, scriptedApi } from './fakes.ts';

const PROFILE = { description: 'test', dask: { worker: { count: 2, nproc: 2, nthread: 1 } } };

describe('bilbo create', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'bilbo-create-'));
    await mkdir(join(home, 'profiles'));
    await writeFile(join(home, 'profiles', 'analytics.json'), JSON.stringify(PROFILE));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const options = (overrides = {}) => ({
    profile: 'analytics',
    params: [],
    wait: true,
    open: { notebook: false, dashboard: false },
    json: false,
    ...overrides,
  });

  const readyScript = () =>
    scriptedApi({
      states: [aCluster(), readyCluster()],
      batches: [
        [anEvent(1, 'recorded the cluster')],
        [anEvent(2, 'launching scheduler'), anEvent(3, 'launching 2 workers')],
        [anEvent(4, 'cluster is ready', 'READY')],
      ],
    });

  it('follows the events until READY, then prints a summary and exits 0', async () => {
    const api = readyScript();
    const fake = fakeFactory({ api, home });
    expect(await main(['create', 'analytics'], fake.f)).toBe(0);

    expect(fake.stderr.text).toBe(
      [
        '[  0.0s] recorded the cluster',
        '[  0.0s] launching scheduler',
        '[  0.0s] launching 2 workers',
        '[  0.0s] cluster is ready',
        '',
      ].join('\n'),
    );
    // Each events request waits on the API's side for the next event: no sleeping between them.
    expect(fake.sleeps).toEqual([]);
    expect(fake.stdout.text).toMatch(/^name\s+analytics$/m);
    expect(fake.stdout.text).toMatch(/^state\s+READY$/m);
    expect(fake.stdout.text).toMatch(/^scheduler\s+tcp:\/\/10\.0\.0\.5:8786$/m);
    expect(fake.stdout.text).toMatch(/^dashboard\s+http:\/\/10\.0\.0\.5:8787\/status$/m);
    expect(fake.stdout.text).toMatch(/^workers\s+4\/4 joined$/m);
    expect(fake.stdout.text).toMatch(/^elapsed\s+0\.0s$/m);
  });

  it('opens the dashboard with -d and the notebook, logged in, with -n once READY, telling on stderr', async () => {
    const ready = { ...readyCluster(), notebookUrl: 'http://10.0.0.7:8888' };
    const api = scriptedApi({ states: [aCluster(), ready], batches: [[anEvent(1, 'ready', 'READY')]] });
    const fake = fakeFactory({ api, home });

    expect(await main(['create', 'analytics', '-d', '-n', '--json'], fake.f)).toBe(0);

    expect(fake.opened).toEqual([ready.dashboardUrl, `http://10.0.0.7:8888/?token=${NOTEBOOK_TOKEN}`]);
    expect(JSON.parse(fake.stdout.text)).toEqual(ready);
    expect(fake.stderr.text).toContain('opened the dashboard with fake-browser\n');
    expect(fake.stderr.text).toContain('opened the notebook with fake-browser\n');
  });

  it('says so when -n asks for a notebook the cluster does not have, and still succeeds', async () => {
    const fake = fakeFactory({ api: readyScript(), home });

    expect(await main(['create', 'analytics', '-n'], fake.f)).toBe(0);

    expect(fake.opened).toEqual([]);
    expect(fake.stderr.text).toContain('cluster analytics has no notebook to open\n');
  });

  it('refuses -n and -d with --no-wait, before creating anything', async () => {
    const api = readyScript();
    const fake = fakeFactory({ api, home });

    expect(await main(['create', 'analytics', '--no-wait', '-d'], fake.f)).toBe(1);

    expect(api.createCluster).not.toHaveBeenCalled();
    expect(fake.stderr.text).toMatch(/do not go with --no-wait/);
  });

  it('asks for the events after the last one it has shown', async () => {
    const api = readyScript();
    await createRun(options(), fakeFactory({ api, home }).f);
    expect(api.events.mock.calls.map(([, o]) => o?.after)).toEqual([undefined, 'e0001', 'e0003', 'e0004']);
  });

  it('sends the local profile, the name, the profile name and the overrides in order', async () => {
    const api = readyScript();
    await createRun(
      options({ cluster: 'demo', params: ['dask.worker.count=8', 'ready_timeout=60'] }),
      fakeFactory({ api, home }).f,
    );
    expect(api.createCluster).toHaveBeenCalledWith({
      name: 'demo',
      profile: PROFILE,
      profileName: 'analytics',
      overrides: ['dask.worker.count=8', 'ready_timeout=60'],
    });
  });

  it('prints the READY record as JSON with --json', async () => {
    const fake = fakeFactory({ api: readyScript(), home });
    await createRun(options({ json: true }), fake.f);
    expect(JSON.parse(fake.stdout.text)).toEqual(readyCluster());
  });

  it('shows the failed step and message and exits 1 when the cluster fails', async () => {
    const failed = aCluster({
      state: 'FAILED',
      failure: {
        step: 'launch-workers',
        error: 'InsufficientInstanceCapacity',
        message: 'no m5.large capacity',
      },
    });
    const api = scriptedApi({
      states: [aCluster(), failed],
      batches: [[anEvent(1, 'recorded the cluster')], [anEvent(2, 'launch failed', 'FAILED')]],
    });
    const fake = fakeFactory({ api, home });
    expect(await main(['create', 'analytics'], fake.f)).toBe(1);
    expect(fake.stderr.text).toContain(
      'error: cluster analytics failed at step "launch-workers": no m5.large capacity (InsufficientInstanceCapacity)',
    );
    expect(fake.stdout.text).toBe('');
  });

  it('throws ClusterFailedError when the cluster fails', async () => {
    const api = scriptedApi({
      states: [aCluster({ state: 'FAILED', failure: { step: 'probe', message: 'timeout' } })],
    });
    await expect(createRun(options(), fakeFactory({ api, home }).f)).rejects.toThrow(ClusterFailedError);
  });

  it('stops following on Ctrl-C, says how to watch the cluster, and exits 2', async () => {
    const api = scriptedApi({ states: [aCluster()] });
    const fake = fakeFactory({ api, home });
    fake.f.sleep = async () => fake.interrupt();
    expect(await main(['create', 'analytics'], fake.f)).toBe(2);
    expect(fake.stderr.text).toContain(
      'cluster analytics keeps being created; watch it with `bilbo desc analytics`',
    );
    expect(api.destroyCluster).not.toHaveBeenCalled();
  });

  it('throws CancelledError on Ctrl-C during a request', async () => {
    const api = scriptedApi({ states: [aCluster()] });
    const fake = fakeFactory({ api, home });
    api.getCluster.mockImplementation(() => {
      fake.interrupt();
      return new Promise(() => {});
    });
    await expect(createRun(options(), fake.f)).rejects.toThrow(CancelledError);
  });

  it('returns at once with --no-wait', async () => {
    const api = readyScript();
    const fake = fakeFactory({ api, home });
    await createRun(options({ wait: false }), fake.f);
    expect(fake.stdout.text).toBe('analytics\tCREATING\n');
    expect(fake.stderr.text).toContain('bilbo desc analytics');
    expect(api.getCluster).not.toHaveBeenCalled();
  });

  it('rejects an invalid profile before any request', async () => {
    await writeFile(join(home, 'profiles', 'bad.json'), JSON.stringify({ dask: { worker: { count: -1 } } }));
    const api = readyScript();
    await expect(createRun(options({ profile: 'bad' }), fakeFactory({ api, home }).f)).rejects.toThrow(
      ValidationError,
    );
    expect(api.createCluster).not.toHaveBeenCalled();
  });

  it('rejects an invalid cluster name before any request', async () => {
    const api = readyScript();
    await expect(createRun(options({ cluster: 'Big_One' }), fakeFactory({ api, home }).f)).rejects.toThrow(
      InvalidClusterNameError,
    );
    expect(api.createCluster).not.toHaveBeenCalled();
  });
});
