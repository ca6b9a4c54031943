import { describe, expect, it } from 'vitest';
import { descRun } from '../../../cli/commands/desc.ts';
import { ApiRequestError } from '../../../cli/errors.ts';
import type { Cluster } from '../../../schemas/types.generated.ts';
import {
  aCluster,
  aCommand,
  anEvent,
  aPlan,
  apiOverHttp,
  ended,
  fakeFactory,
  readyCluster,
  scriptedApi,
  T0,
} from './fakes.ts';

const detailed = () =>
  readyCluster({
    description: 'nightly churn model',
    dashboardUrl: 'http://3.3.3.5:8787',
    notebookUrl: 'http://3.3.3.8:8888',
    instances: [
      {
        id: 'i-0a',
        role: 'scheduler',
        index: 0,
        privateIp: '10.0.0.5',
        publicIp: '3.3.3.5',
        state: 'running',
      },
      { id: 'i-0b', role: 'worker', index: 0, privateIp: '10.0.0.6', publicIp: '3.3.3.6', state: 'running' },
      { id: 'i-0c', role: 'worker', index: 1, privateIp: '10.0.0.7', state: 'stopped' },
      { id: 'i-0d', role: 'notebook', index: 0, privateIp: '10.0.0.8', publicIp: '3.3.3.8' },
    ],
  });

async function described(cluster: Cluster, extra: Parameters<typeof scriptedApi>[0] = {}) {
  const api = scriptedApi({ states: [cluster], ...extra });
  const fake = fakeFactory({ api });
  await descRun({ name: cluster.name, detail: false, json: false }, fake.f);
  return { api, fake, text: fake.stdout.text };
}

/** The rows of the section that starts with `heading`, split into cells. */
function section(text: string, heading: string): string[][] {
  const lines = text.split('\n');
  const start = lines.indexOf(heading);
  const end = lines.findIndex((line, n) => n > start && line === '');
  return lines.slice(start + 1, end === -1 ? undefined : end).map((line) => line.split(/\s{2,}/));
}

describe('bilbo desc', () => {
  it('prints the record as name/value lines, with the URLs people use', async () => {
    const { text } = await described(detailed());
    expect(text).toMatch(/^state\s+READY$/m);
    expect(text).toMatch(/^owner\s+arn:aws:iam::123456789012:user\/alice$/m);
    expect(text).toMatch(/^description\s+nightly churn model$/m);
    expect(text).toMatch(/^dashboard\s+http:\/\/3\.3\.3\.5:8787$/m);
    expect(text).toMatch(/^notebook\s+http:\/\/3\.3\.3\.8:8888$/m);
    expect(text).toMatch(/^workers\s+4\/4 joined$/m);
    expect(text).toMatch(/^roles\s+scheduler 1 x t3\.medium, worker 2 x m5\.large$/m);
    expect(text).not.toMatch(/^ended/m);
  });

  it('shows every instance: role, index, id, public and private address, state', async () => {
    const { text } = await described(detailed());
    expect(section(text, 'Instances')).toEqual([
      ['ROLE', 'INDEX', 'ID', 'PUBLIC IP', 'PRIVATE IP', 'STATE'],
      ['scheduler', '0', 'i-0a', '3.3.3.5', '10.0.0.5', 'running'],
      ['worker', '0', 'i-0b', '3.3.3.6', '10.0.0.6', 'running'],
      ['worker', '1', 'i-0c', '-', '10.0.0.7', 'stopped'],
      ['notebook', '0', 'i-0d', '3.3.3.8', '10.0.0.8', '-'],
    ]);
  });

  describe('health', () => {
    const degraded = () =>
      readyCluster({
        ...detailed(),
        health: {
          status: 'degraded',
          reason: 'worker 1 (i-0c) is stopped: User initiated; only 3/4 Dask workers joined',
          checkedAt: new Date(T0 - 5_000).toISOString(),
          instancesExpected: 4,
          instancesRunning: 3,
          servicesCheckedAt: new Date(T0 - 240_000).toISOString(),
          servicesMissing: 'only 3/4 Dask workers joined',
        },
      });

    it('marks a degraded cluster, says why and how fresh that is', async () => {
      const { text } = await described(degraded());

      expect(text).toMatch(/^state\s+READY \(degraded\)$/m);
      expect(text).toMatch(
        /^health\s+degraded: worker 1 \(i-0c\) is stopped: User initiated; only 3\/4 Dask workers joined$/m,
      );
      expect(text).toMatch(/^checked\s+instances 5s ago \(3\/4 running\), services 4m ago$/m);
    });

    it('says a healthy cluster is ok, and when its services were never looked at since READY', async () => {
      const { text } = await described(
        readyCluster({
          health: {
            status: 'ok',
            checkedAt: new Date(T0 - 2_000).toISOString(),
            instancesExpected: 3,
            instancesRunning: 3,
          },
        }),
      );

      expect(text).toMatch(/^state\s+READY$/m);
      expect(text).toMatch(/^health\s+ok$/m);
      expect(text).toMatch(/^checked\s+instances 2s ago \(3\/3 running\), services not since READY$/m);
    });

    it('shows no health for a cluster that is not READY', async () => {
      const { text } = await described({ ...degraded(), state: 'RESTARTING' });

      expect(text).toMatch(/^state\s+RESTARTING$/m);
      expect(text).not.toMatch(/^(health|checked)/m);
    });

    it('carries the health object in --json', async () => {
      const api = scriptedApi({ states: [degraded()] });
      const fake = fakeFactory({ api });
      await descRun({ name: 'analytics', detail: false, json: true }, fake.f);
      expect(JSON.parse(fake.stdout.text).health).toEqual(degraded().health);
    });
  });

  it('says so when no instance is recorded yet', async () => {
    const { text } = await described(aCluster({ instances: [] }));
    expect(section(text, 'Instances')).toEqual([['none']]);
  });

  it('shows the last events, oldest of them first, and how many came before', async () => {
    const events = Array.from({ length: 12 }, (_, n) => anEvent(n + 1, `event ${n + 1}`));
    const { text } = await described(detailed(), { batches: [events] });
    const rows = section(text, 'Events');
    expect(rows[0]).toEqual(['WHEN', 'STEP', 'MESSAGE']);
    expect(rows.slice(1, -1).map((row) => row[2])).toEqual(
      Array.from({ length: 10 }, (_, n) => `event ${n + 3}`),
    );
    expect(rows.at(-1)).toEqual(['2 earlier (bilbo desc analytics -d shows every event)']);
  });

  it('tells why an ended cluster ended, and shows no URLs or workers for it', async () => {
    const { text } = await described(
      aCluster({
        state: 'DESTROYED',
        dashboardUrl: 'http://3.3.3.5:8787',
        workersJoined: 4,
        destroyReason: 'idle for 30 min: destroy (bilbo reaper)',
        instances: [{ id: 'i-0a', role: 'scheduler', index: 0, privateIp: '10.0.0.5', state: 'terminated' }],
      }),
    );
    expect(text).toMatch(/^ended\s+idle for 30 min: destroy \(bilbo reaper\)$/m);
    expect(text).not.toContain('dashboard');
    expect(text).not.toMatch(/^workers/m);
    expect(section(text, 'Instances')[1]).toEqual(['scheduler', '0', 'i-0a', '-', '10.0.0.5', 'terminated']);
  });

  it('tells why a paused cluster was paused', async () => {
    const reason = 'reaped: idle for 61 min; paused instead: unsaved work in its notebook: pause (reaper)';

    const { text } = await described(readyCluster({ state: 'PAUSED', pauseReason: reason }));
    const running = await described(readyCluster({ pauseReason: reason }));

    expect(text).toMatch(/^paused\s+reaped: idle for 61 min; paused instead: .*: pause \(reaper\)$/m);
    expect(running.text).not.toMatch(/^paused/m);
  });

  it('tells a failed cluster’s step and reason', async () => {
    const { text } = await described(
      aCluster({ state: 'FAILED', failure: { step: 'probe-ready', message: 'only 1/4 workers joined' } }),
    );
    expect(text).toMatch(/^ended\s+failed at probe-ready: only 1\/4 workers joined$/m);
  });

  const history = () =>
    Array.from({ length: 7 }, (_, n) =>
      ended(
        aCommand({
          id: `cmd-00000000000000${String(n).padStart(2, '0')}`,
          what: n === 0 ? `python3 -c 'print(1)'\\u000a${'x'.repeat(80)}` : `echo ${n}`,
          createdAt: new Date(T0 - 60_000 * (n + 1)).toISOString(),
        }),
        n === 1 ? 'FAILED' : 'SUCCEEDED',
        [],
        n === 1 ? { exitCode: 3 } : { exitCode: 0 },
      ),
    );

  it('lists the newest few commands: id, kind, what, target, state, exit code and when', async () => {
    const { api, text } = await described(detailed(), { history: history() });
    expect(api.listCommands).toHaveBeenCalledWith('analytics');
    expect(text).toMatch(/^ID\s+KIND\s+WHAT\s+TARGET\s+STATE\s+EXIT\s+WHEN$/m);
    expect(text).toMatch(/^cmd-0000000000000001\s+rcmd\s+echo 1\s+scheduler\s+FAILED\s+3\s+2m ago$/m);
    expect(text).toContain('cmd-0000000000000004');
    expect(text).not.toContain('cmd-0000000000000005');
    // A long script is cut to its start, on one line.
    expect(text).toMatch(/^cmd-0000000000000000\s+rcmd\s+python3 -c 'print\(1\)'\\u000ax+…\s+scheduler/m);
  });

  it('shows no command section when none has run', async () => {
    const { text } = await described(detailed());
    expect(text).not.toContain('Commands');
  });

  it('still describes the cluster, with a warning, when the API will not list its commands', async () => {
    const api = scriptedApi({ states: [detailed()] });
    api.listCommands.mockRejectedValueOnce(new ApiRequestError(404, 'NOT_FOUND', 'no such route'));
    const fake = fakeFactory({ api });
    await descRun({ name: 'analytics', detail: false, json: false }, fake.f);
    expect(fake.stdout.text).toMatch(/^state\s+READY$/m);
    expect(fake.stderr.text).toBe('warning: cannot list the commands of analytics: no such route\n');
  });

  it('prints the record and its newest commands as JSON with --json', async () => {
    const api = scriptedApi({ states: [detailed()], history: history() });
    const fake = fakeFactory({ api });
    await descRun({ name: 'analytics', detail: false, json: true }, fake.f);
    expect(JSON.parse(fake.stdout.text)).toEqual({ ...detailed(), commands: history().slice(0, 5) });
  });

  it('prints with -d the whole record, every event and the newest commands as JSON', async () => {
    const events = [anEvent(1, 'recorded the cluster'), anEvent(2, 'cluster is ready')];
    for (const json of [false, true]) {
      const api = scriptedApi({ states: [detailed()], batches: [events] });
      const fake = fakeFactory({ api });
      await descRun({ name: 'analytics', detail: true, json }, fake.f);
      expect(JSON.parse(fake.stdout.text)).toEqual({ ...detailed(), events, commands: [] });
    }
  });

  describe('prints no secret', () => {
    const secretive = () => {
      const plan = aPlan();
      plan.roles[0]!.instance = {
        ...plan.roles[0]!.instance,
        ssh_private_key: '-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXk',
        init_cmd: ['export HF_TOKEN=hf_s3cr3t', 'pip install --index-url https://me:pypi-pw@pypi.example/x'],
      };
      plan.roles[1]!.notebook = { gitUser: 'me', hasGitPassword: true };
      return readyCluster({
        plan,
        notebookUrl: 'http://3.3.3.8:8888/?token=jupyter-t0ken',
        // What an API that answered more than it should would send.
        ...({ jupyterToken: 'jupyter-t0ken', gitPassword: 'git-pw' } as object),
      });
    };
    const secrets = ['hf_s3cr3t', 'pypi-pw', 'b3BlbnNzaC1rZXk', 'jupyter-t0ken', 'git-pw', 'cmd-pw'];
    const leaks = (text: string) => secrets.filter((secret) => text.includes(secret));
    const extra = {
      batches: [[anEvent(1, 'cloning with password=git-pw')]],
      history: [aCommand({ what: 'mysql --password cmd-pw -e "select 1"' })],
    };

    it('redacts them in the JSON of -d, and keeps the rest', async () => {
      const api = scriptedApi({ states: [secretive()], ...extra });
      const fake = fakeFactory({ api });
      await descRun({ name: 'analytics', detail: true, json: false }, fake.f);

      expect(leaks(fake.stdout.text)).toEqual([]);
      const printed = JSON.parse(fake.stdout.text);
      expect(printed.jupyterToken).toBe('[redacted]');
      expect(printed.gitPassword).toBe('[redacted]');
      expect(printed.notebookUrl).toBe('http://3.3.3.8:8888/?token=[redacted]');
      expect(printed.plan.roles[0].instance.ssh_private_key).toBe('[redacted]');
      expect(printed.plan.roles[0].instance.init_cmd).toEqual([
        'export HF_TOKEN=[redacted]',
        'pip install --index-url https://me:[redacted]@pypi.example/x',
      ]);
      expect(printed.plan.roles[1].notebook).toEqual({ gitUser: 'me', hasGitPassword: true });
      expect(printed.events[0].message).toBe('cloning with password=[redacted]');
      expect(printed.commands[0].what).toBe('mysql --password [redacted] -e "select 1"');
      expect(printed.name).toBe('analytics');
      expect(printed.instances).toEqual(secretive().instances);
    });

    it('redacts them in the text and in --json', async () => {
      for (const json of [false, true]) {
        const fake = fakeFactory({ api: scriptedApi({ states: [secretive()], ...extra }) });
        await descRun({ name: 'analytics', detail: false, json }, fake.f);
        expect(leaks(fake.stdout.text)).toEqual([]);
      }
    });
  });

  it('writes out the control characters of text from the API, so none reaches the terminal', async () => {
    const planted = aCluster({
      state: 'FAILED',
      description: 'ours\u001b]0;owned\u0007',
      instances: [{ id: 'i-0a\u001b[2J', role: 'scheduler', index: 0, privateIp: '10.0.0.5\r' }],
      failure: { step: 'probe-ready', message: 'gone\u009b31m' },
    });
    const fake = fakeFactory({
      api: apiOverHttp({
        clusters: [planted],
        events: [
          { ...anEvent(1, 'step \u001b[1A\u001b[2K over'), id: '2026-11-28T12:00:01.000Z#000001#0001' },
        ],
        commands: [aCommand({ what: 'echo \u001b[31mred' })],
      }),
    });

    await descRun({ name: 'analytics', detail: false, json: false }, fake.f);

    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
    expect(fake.stdout.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    for (const escaped of [
      'ours\\u001b]0;owned\\u0007',
      'i-0a\\u001b[2J',
      '10.0.0.5\\u000d',
      'gone\\u009b31m',
      'step \\u001b[1A\\u001b[2K over',
      'echo \\u001b[31mred',
    ]) {
      expect(fake.stdout.text).toContain(escaped);
    }
  });
});
