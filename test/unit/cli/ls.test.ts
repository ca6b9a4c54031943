import { describe, expect, it } from 'vitest';
import { lsRun } from '../../../cli/commands/ls.ts';
import type { Cluster } from '../../../schemas/types.generated.ts';
import { aCluster, aPlan, apiOverHttp, fakeFactory, readyCluster, scriptedApi, T0 } from './fakes.ts';

const hoursAgo = (hours: number) => new Date(T0 - hours * 3_600_000).toISOString();

const live = () => [
  readyCluster({
    workersJoined: 3,
    description: 'nightly churn model',
    instances: [
      { id: 'i-0a', role: 'scheduler', index: 0, privateIp: '10.0.0.5', state: 'running' },
      { id: 'i-0b', role: 'worker', index: 0, privateIp: '10.0.0.6', state: 'running' },
      { id: 'i-0c', role: 'worker', index: 1, privateIp: '10.0.0.7', state: 'running' },
    ],
  }),
  aCluster({
    id: 'c-0002',
    name: 'gpu',
    owner: 'bob',
    createdAt: hoursAgo(3),
    instances: [{ id: 'i-1a', role: 'scheduler', index: 0, privateIp: '10.0.1.5', state: 'pending' }],
    plan: aPlan({ cluster: 'gpu', totalWorkers: 8, wantedWorkers: 8 }),
  }),
];

const destroyed = () =>
  aCluster({
    id: 'c-0003',
    name: 'old',
    state: 'DESTROYED',
    createdAt: hoursAgo(50),
    // What the record still holds of its last run: none of it is shown.
    workersJoined: 4,
    instances: [
      { id: 'i-2a', role: 'scheduler', index: 0, state: 'terminated' },
      { id: 'i-2b', role: 'worker', index: 0, state: 'terminated' },
    ],
    destroyReason: 'destroy requested by arn:aws:iam::123456789012:user/alice',
  });

const failed = () =>
  aCluster({
    id: 'c-0004',
    name: 'broken',
    state: 'FAILED',
    createdAt: hoursAgo(26),
    workersJoined: 1,
    failure: { step: 'probe-ready', error: 'ReadyTimeoutError', message: 'only 1/4 Dask workers joined' },
  });

/** Each line's cells: the table separates columns with two spaces or more. */
async function table(clusters: Cluster[], all = false): Promise<string[][]> {
  const api = scriptedApi();
  api.listClusters.mockResolvedValue(clusters);
  const fake = fakeFactory({ api });
  await lsRun({ all, json: false }, fake.f);
  return fake.stdout.text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/\s{2,}/));
}

describe('bilbo ls', () => {
  it('shows each live cluster: name, state, owner, age, instances, workers joined and description', async () => {
    const [headers, ...rows] = await table(live());

    expect(headers).toEqual(['NAME', 'STATE', 'OWNER', 'AGE', 'INSTANCES', 'WORKERS', 'DESCRIPTION']);
    expect(rows).toEqual([
      [
        'analytics',
        'READY',
        'arn:aws:iam::123456789012:user/alice',
        '1m',
        '3/3',
        '3/4',
        'nightly churn model',
      ],
      ['gpu', 'CREATING', 'bob', '3h', '1/3', '0/8', '-'],
    ]);
  });

  it('shows no counts for ended clusters, and why each ended', async () => {
    const [headers, ...rows] = await table([...live(), failed(), destroyed()], true);

    expect(headers).toEqual([
      'NAME',
      'STATE',
      'OWNER',
      'AGE',
      'INSTANCES',
      'WORKERS',
      'DESCRIPTION',
      'REASON',
    ]);
    expect(rows[2]).toEqual([
      'broken',
      'FAILED',
      'arn:aws:iam::123456789012:user/alice',
      '1d',
      '-',
      '-',
      '-',
      'failed at probe-ready: only 1/4 Dask workers joined',
    ]);
    expect(rows[3]).toEqual([
      'old',
      'DESTROYED',
      'arn:aws:iam::123456789012:user/alice',
      '2d',
      '-',
      '-',
      '-',
      'destroy requested by arn:aws:iam::123456789012:user/alice',
    ]);
    // A live cluster has nothing to say there.
    expect(rows[0]!.at(-1)).toBe('-');
  });

  it('marks a READY cluster that lost part of itself degraded, and says what it lacks', async () => {
    const degraded = readyCluster({
      workersJoined: 1,
      instances: [
        { id: 'i-0a', role: 'scheduler', index: 0, privateIp: '10.0.0.5', state: 'running' },
        { id: 'i-0b', role: 'worker', index: 0, privateIp: '10.0.0.6', state: 'running' },
        { id: 'i-0c', role: 'worker', index: 1, privateIp: '10.0.0.7', state: 'terminated' },
      ],
      health: {
        status: 'degraded',
        reason: 'worker 1 (i-0c) is terminated: killed by SIGKILL; only 1/2 Dask workers joined',
        checkedAt: new Date(T0 - 5_000).toISOString(),
        instancesExpected: 3,
        instancesRunning: 2,
      },
    });

    const [headers, ...rows] = await table([degraded, live()[1]!]);

    expect(headers?.at(-1)).toBe('REASON');
    expect(rows[0]).toEqual([
      'analytics',
      'READY (degraded)',
      'arn:aws:iam::123456789012:user/alice',
      '1m',
      '3/3',
      '1/4',
      '-',
      'worker 1 (i-0c) is terminated: killed by SIGKILL; only 1/2 Dask workers joined',
    ]);
    expect(rows[1]!.at(-1)).toBe('-');
  });

  it('shows a healthy READY cluster as READY, with no reason column', async () => {
    const healthy = readyCluster({
      health: {
        status: 'ok',
        checkedAt: new Date(T0 - 5_000).toISOString(),
        instancesExpected: 3,
        instancesRunning: 3,
      },
    });

    const [headers, row] = await table([healthy]);

    expect(headers).not.toContain('REASON');
    expect(row?.[1]).toBe('READY');
  });

  it('shows what a paused cluster still costs: its volumes', async () => {
    const base = aPlan();
    const plan = {
      ...base,
      roles: base.roles.map((role) => ({
        ...role,
        instance: { ...role.instance, vol_size: role.role === 'scheduler' ? 40 : 100 },
      })),
    };
    const paused = readyCluster({ state: 'PAUSED', workersJoined: 0, plan });
    const [headers, ...rows] = await table([paused, live()[1]!]);

    expect(headers).toEqual([
      'NAME',
      'STATE',
      'OWNER',
      'AGE',
      'INSTANCES',
      'WORKERS',
      'DESCRIPTION',
      'PAUSED, STILL COSTS',
    ]);
    expect(rows[0]!.slice(1, 2)).toEqual(['PAUSED']);
    expect(rows[0]!.at(-1)).toBe('volumes 1 × 40 GiB + 2 × 100 GiB = 240 GiB');
    expect(rows[1]!.at(-1)).toBe('-');
  });

  it('says why a paused cluster was paused, and not once it runs again', async () => {
    const reason = 'reaped: idle for 61 min; paused instead: unsaved work: pause (reaper)';
    const paused = readyCluster({ state: 'PAUSED', workersJoined: 0, pauseReason: reason });
    const resumed = readyCluster({ id: 'c-0009', name: 'resumed', pauseReason: 'pause requested by bob' });

    const [headers, ...rows] = await table([paused, resumed]);

    expect(headers?.at(-1)).toBe('REASON');
    expect(rows[0]!.at(-1)).toBe(reason);
    expect(rows[1]!.at(-1)).toBe('-');
  });

  it('says a destroy that failed ended in its failure, not in the request', async () => {
    const [, row] = await table([
      aCluster({
        state: 'FAILED',
        destroyReason: 'destroy requested by bob',
        failure: { step: 'check-terminated', message: 'i-0a still running' },
      }),
    ]);
    expect(row!.at(-1)).toBe('failed at check-terminated: i-0a still running');
  });

  it('lists the newest first, whatever order the API answers in', async () => {
    const rows = (await table([destroyed(), live()[1]!, failed(), live()[0]!], true)).slice(1);
    expect(rows.map((row) => row[0])).toEqual(['analytics', 'gpu', 'broken', 'old']);
  });

  it('cuts a long description and a long reason, so each cluster stays on one line', async () => {
    const long = aCluster({
      state: 'FAILED',
      description: `d${'e'.repeat(100)}`,
      failure: { step: 'launch-worker', message: `m${'x'.repeat(200)}` },
    });
    const [, row] = await table([long]);
    expect(row).toHaveLength(8);
    expect([...row![6]!]).toHaveLength(40);
    expect(row![6]).toMatch(/^de+…$/);
    expect([...row![7]!]).toHaveLength(80);
    expect(row![7]).toMatch(/^failed at launch-worker: mx+…$/);
  });

  it('aligns the columns', async () => {
    const api = scriptedApi();
    api.listClusters.mockResolvedValue(live());
    const fake = fakeFactory({ api });
    await lsRun({ all: false, json: false }, fake.f);
    const lines = fake.stdout.text.split('\n');
    expect(lines[1]!.indexOf('READY')).toBe(lines[0]!.indexOf('STATE'));
    expect(lines[2]!.indexOf('CREATING')).toBe(lines[0]!.indexOf('STATE'));
    expect(lines[2]!.indexOf('1/3')).toBe(lines[0]!.indexOf('INSTANCES'));
  });

  it('asks for ended clusters with -a', async () => {
    const api = scriptedApi();
    await lsRun({ all: true, json: false }, fakeFactory({ api }).f);
    expect(api.listClusters).toHaveBeenCalledWith({ all: true });
  });

  it('prints the records, newest first, as JSON with --json', async () => {
    const api = scriptedApi();
    api.listClusters.mockResolvedValue([failed(), ...live()]);
    const fake = fakeFactory({ api });
    await lsRun({ all: true, json: true }, fake.f);
    expect(JSON.parse(fake.stdout.text)).toEqual([...live(), failed()]);
  });

  it('redacts secrets in the JSON too', async () => {
    const api = scriptedApi();
    const plan = aPlan();
    plan.roles[0]!.instance.init_cmd = ['export HF_TOKEN=hf_s3cr3t'];
    api.listClusters.mockResolvedValue([readyCluster({ plan })]);
    const fake = fakeFactory({ api });
    await lsRun({ all: false, json: true }, fake.f);
    expect(fake.stdout.text).not.toContain('hf_s3cr3t');
    expect(JSON.parse(fake.stdout.text)[0].plan.roles[0].instance.init_cmd).toEqual([
      'export HF_TOKEN=[redacted]',
    ]);
  });

  it('writes out the control characters of text from the API, so none reaches the terminal', async () => {
    const planted = aCluster({
      state: 'FAILED',
      description: 'ours\u001b]0;owned\u0007',
      failure: { step: 'probe-ready', message: 'gone\u001b[2J\u009b31m' },
    });
    const fake = fakeFactory({ api: apiOverHttp({ clusters: [planted] }) });

    await lsRun({ all: true, json: false }, fake.f);

    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
    expect(fake.stdout.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(fake.stdout.text).toContain('ours\\u001b]0;owned\\u0007');
    expect(fake.stdout.text).toContain('gone\\u001b[2J\\u009b31m');
  });

  it('prints nothing on stdout, and a hint on stderr, when there are no clusters', async () => {
    const fake = fakeFactory();
    await lsRun({ all: false, json: false }, fake.f);
    expect(fake.stdout.text).toBe('');
    expect(fake.stderr.text).toContain('no live clusters');
  });
});
