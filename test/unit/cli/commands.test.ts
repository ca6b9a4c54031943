import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { descRun } from '../../../cli/commands/desc.ts';
import { localRun } from '../../../cli/commands/local.ts';
import { planRun } from '../../../cli/commands/plan.ts';
import { versionRun } from '../../../cli/commands/version.ts';
import { ApiRequestError } from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import { aCommand, anEvent, aPlan, ended, fakeFactory, readyCluster, scriptedApi, T0 } from './fakes.ts';

describe('bilbo version', () => {
  it('prints "bilbo <version>"', async () => {
    const fake = fakeFactory();
    await versionRun({ json: false }, fake.f);
    expect(fake.stdout.text).toBe('bilbo 1.2.3\n');
  });

  it('prints {"version": ...} with --json', async () => {
    const fake = fakeFactory();
    await versionRun({ json: true }, fake.f);
    expect(JSON.parse(fake.stdout.text)).toEqual({ version: '1.2.3' });
  });
});

describe('bilbo plan', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'bilbo-plan-'));
    await mkdir(join(home, 'profiles'));
    await writeFile(
      join(home, 'profiles', 'analytics.json'),
      JSON.stringify({ dask: { worker: { count: 2 } } }),
    );
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('posts the profile and prints the plan as text', async () => {
    const api = scriptedApi();
    const fake = fakeFactory({ api, home });
    await planRun({ profile: 'analytics', params: ['dask.worker.count=3'], json: false }, fake.f);
    expect(api.plan).toHaveBeenCalledWith({
      name: 'analytics',
      profile: { dask: { worker: { count: 2 } } },
      profileName: 'analytics',
      overrides: ['dask.worker.count=3'],
    });
    expect(fake.stdout.text).toMatch(/^cluster: analytics \(dask\)$/m);
    expect(fake.stdout.text).toMatch(/^worker\s+2 × m5\.large/m);
  });

  it('prints the instance prefix, each role’s instance names and its tags in the text plan', async () => {
    const api = scriptedApi();
    const plan = aPlan({ instancePrefix: 'team-' });
    plan.roles[1]!.instance.tags = [
      ['Owner', 'data-team'],
      ['Project', 'etl'],
    ];
    api.plan.mockResolvedValue(plan);
    const fake = fakeFactory({ api, home });

    await planRun({ profile: 'analytics', params: [], json: false }, fake.f);

    expect(fake.stdout.text).toMatch(/^instance prefix: team-$/m);
    expect(fake.stdout.text).toMatch(/^\s+name team-analytics-scheduler-0; tags none$/m);
    expect(fake.stdout.text).toMatch(
      /^\s+names team-analytics-worker-0 … team-analytics-worker-1; tags Owner=data-team, Project=etl$/m,
    );
  });

  it('prints the plan JSON with --json', async () => {
    const fake = fakeFactory({ home });
    await planRun({ profile: 'analytics', cluster: 'other', params: [], json: true }, fake.f);
    expect(JSON.parse(fake.stdout.text)).toEqual(aPlan());
  });
});

describe('bilbo desc', () => {
  const detailed = () =>
    readyCluster({
      instances: [
        { id: 'i-0a', role: 'scheduler', index: 0, privateIp: '10.0.0.5' },
        { id: 'i-0b', role: 'worker', index: 0, privateIp: '10.0.0.6', publicIp: '3.3.3.3' },
      ],
    });

  it('prints the record as name/value lines', async () => {
    const api = scriptedApi({ states: [detailed()] });
    const fake = fakeFactory({ api });
    await descRun({ name: 'analytics', detail: false, json: false }, fake.f);
    expect(fake.stdout.text).toMatch(/^state\s+READY$/m);
    expect(fake.stdout.text).toMatch(/^owner\s+arn:aws:iam::123456789012:user\/alice$/m);
    expect(fake.stdout.text).toMatch(/^roles\s+scheduler 1 x t3\.medium, worker 2 x m5\.large$/m);
    expect(fake.stdout.text).not.toContain('i-0a');
    expect(api.events).not.toHaveBeenCalled();
  });

  it('adds the instances and the full event history with -d', async () => {
    const api = scriptedApi({
      states: [detailed()],
      batches: [[anEvent(1, 'recorded the cluster')], [anEvent(2, 'cluster is ready')]],
    });
    const fake = fakeFactory({ api });
    await descRun({ name: 'analytics', detail: true, json: false }, fake.f);
    expect(fake.stdout.text).toMatch(/^worker\s+0\s+i-0b\s+10\.0\.0\.6\s+3\.3\.3\.3$/m);
    expect(fake.stdout.text).toContain('recorded the cluster');
    expect(fake.stdout.text).toContain('cluster is ready');
  });

  it('prints the record, with its events under -d, as JSON', async () => {
    const api = scriptedApi({ states: [detailed()], batches: [[anEvent(1, 'recorded the cluster')]] });
    const fake = fakeFactory({ api });
    await descRun({ name: 'analytics', detail: true, json: true }, fake.f);
    expect(JSON.parse(fake.stdout.text)).toEqual({
      ...detailed(),
      events: [anEvent(1, 'recorded the cluster')],
      commands: [],
    });
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
    const api = scriptedApi({ states: [detailed()], history: history() });
    const fake = fakeFactory({ api });
    await descRun({ name: 'analytics', detail: false, json: false }, fake.f);
    expect(api.listCommands).toHaveBeenCalledWith('analytics');
    expect(fake.stdout.text).toMatch(/^ID\s+KIND\s+WHAT\s+TARGET\s+STATE\s+EXIT\s+WHEN$/m);
    expect(fake.stdout.text).toMatch(
      /^cmd-0000000000000001\s+rcmd\s+echo 1\s+scheduler\s+FAILED\s+3\s+2m ago$/m,
    );
    expect(fake.stdout.text).toContain('cmd-0000000000000004');
    expect(fake.stdout.text).not.toContain('cmd-0000000000000005');
    // A long script is cut to its start, on one line.
    expect(fake.stdout.text).toMatch(
      /^cmd-0000000000000000\s+rcmd\s+python3 -c 'print\(1\)'\\u000ax+…\s+scheduler/m,
    );
  });

  it('shows no command section when none has run, and the newest few in JSON', async () => {
    const none = fakeFactory({ api: scriptedApi({ states: [detailed()] }) });
    await descRun({ name: 'analytics', detail: false, json: false }, none.f);
    expect(none.stdout.text).not.toContain('Commands');

    const some = fakeFactory({ api: scriptedApi({ states: [detailed()], history: history() }) });
    await descRun({ name: 'analytics', detail: false, json: true }, some.f);
    expect(JSON.parse(some.stdout.text).commands).toEqual(history().slice(0, 5));
  });

  it('still describes the cluster, with a warning, when the API will not list its commands', async () => {
    const api = scriptedApi({ states: [detailed()] });
    api.listCommands.mockRejectedValueOnce(new ApiRequestError(404, 'NOT_FOUND', 'no such route'));
    const fake = fakeFactory({ api });
    await descRun({ name: 'analytics', detail: false, json: false }, fake.f);
    expect(fake.stdout.text).toMatch(/^state\s+READY$/m);
    expect(fake.stderr.text).toBe('warning: cannot list the commands of analytics: no such route\n');
  });
});

describe('bilbo local', () => {
  it('prints the exports, waits for a signal, then stops cleanly and exits 0', async () => {
    const order: string[] = [];
    const fake = fakeFactory({
      home: '/home/u/.bilbo',
      overrides: {
        startLocalControlPlane: async (o) => {
          o.log('starting DynamoDB Local');
          return {
            endpoint: 'http://127.0.0.1:40123',
            region: 'us-east-1',
            credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 's3cret' },
            stop: async () => {
              order.push('stop');
            },
          };
        },
        waitForShutdown: async () => {
          order.push('wait');
          return 'SIGINT';
        },
      },
    });
    const start = vi.spyOn(fake.f, 'startLocalControlPlane');
    const write = fake.stdout.write.bind(fake.stdout);
    vi.spyOn(fake.stdout, 'write').mockImplementation((chunk: unknown) => {
      order.push('print');
      return write(chunk as string);
    });

    expect(await main(['local', '--port', '40123'], fake.f)).toBe(0);
    expect(fake.stdout.text).toBe(
      [
        'export BILBO_ENDPOINT=http://127.0.0.1:40123',
        'export BILBO_REGION=us-east-1',
        'export AWS_ACCESS_KEY_ID=AKIALOCAL AWS_SECRET_ACCESS_KEY=s3cret',
        '',
      ].join('\n'),
    );
    expect(start).toHaveBeenCalledWith(expect.objectContaining({ port: 40123, home: '/home/u/.bilbo' }));
    expect(order).toEqual(['wait', 'print', 'stop']);
    expect(fake.stderr.text).toContain('starting DynamoDB Local\n');
    expect(fake.stderr.text).toMatch(/stopped\n$/);
  });

  it('passes --users and --admin on, and prints each user’s key pair as a comment the shell ignores', async () => {
    const fake = fakeFactory({
      overrides: {
        startLocalControlPlane: async () => ({
          endpoint: 'http://127.0.0.1:1',
          region: 'us-east-1',
          users: [{ name: 'bob', principal: 'local:bob', accessKeyId: 'AKLOCALBOB', secretAccessKey: 'b0b' }],
          stop: async () => {},
        }),
        waitForShutdown: async () => 'SIGTERM',
      },
    });
    const start = vi.spyOn(fake.f, 'startLocalControlPlane');

    expect(
      await main(['local', '--users', 'alice,bob', '--users', 'carol', '--admin', 'alice'], fake.f),
    ).toBe(0);

    expect(start).toHaveBeenCalledWith(
      expect.objectContaining({ users: ['alice', 'bob', 'carol'], admins: ['alice'] }),
    );
    expect(fake.stdout.text).toContain(
      '# as bob (local:bob): export AWS_ACCESS_KEY_ID=AKLOCALBOB AWS_SECRET_ACCESS_KEY=b0b\n',
    );
  });

  it('stops the control plane when waiting for the signal fails', async () => {
    const stop = vi.fn(async () => {});
    const fake = fakeFactory({
      overrides: {
        startLocalControlPlane: async () => ({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', stop }),
        waitForShutdown: () => Promise.reject(new Error('signal handling broke')),
      },
    });
    await expect(localRun({}, fake.f)).rejects.toThrow('signal handling broke');
    expect(stop).toHaveBeenCalledOnce();
  });

  it('leaves out the key exports when the caller has credentials of their own', async () => {
    const fake = fakeFactory({
      overrides: {
        startLocalControlPlane: async () => ({
          endpoint: 'http://127.0.0.1:1',
          region: 'eu-west-1',
          stop: async () => {},
        }),
        waitForShutdown: async () => 'SIGTERM',
      },
    });
    await localRun({ home: 'rel/dir' }, fake.f);
    expect(fake.stdout.text).not.toContain('AWS_ACCESS_KEY_ID');
    expect(fake.stdout.text).toContain('export BILBO_REGION=eu-west-1');
  });
});
