import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { localRun } from '../../../cli/commands/local.ts';
import { planRun } from '../../../cli/commands/plan.ts';
import { versionRun } from '../../../cli/commands/version.ts';
import { main } from '../../../cli/main.ts';
import { aPlan, fakeFactory, scriptedApi } from './fakes.ts';

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

  it("passes the reaper's period and settings on to the control plane", async () => {
    const fake = fakeFactory({
      overrides: {
        startLocalControlPlane: async () => ({
          endpoint: 'http://127.0.0.1:1',
          region: 'us-east-1',
          stop: async () => {},
        }),
        waitForShutdown: async () => 'SIGTERM',
      },
    });
    const start = vi.spyOn(fake.f, 'startLocalControlPlane');

    expect(
      await main(
        ['local', '--reap-every', '1s', '--max-lifetime-ceiling', '2h', '--orphan-grace', '5s'],
        fake.f,
      ),
    ).toBe(0);

    expect(start).toHaveBeenCalledWith(
      expect.objectContaining({
        reapEveryMs: 1000,
        reaper: { maxLifetimeCeilingSeconds: 7200, orphanGraceSeconds: 5 },
      }),
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
