import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, type CommandName, type CommandOptions } from '../../../cli/program.ts';
import { fakeFactory } from './fakes.ts';

async function parse(...args: string[]) {
  const fake = fakeFactory();
  const calls: { name: CommandName; options: CommandOptions[CommandName] }[] = [];
  const program = buildProgram(fake.f, async (name, options) => {
    calls.push({ name, options });
  });
  await program.parseAsync(args, { from: 'user' });
  return { calls, ...fake };
}

async function optionsOf(...args: string[]) {
  const { calls } = await parse(...args);
  expect(calls).toHaveLength(1);
  return calls[0];
}

describe('the bilbo command tree', () => {
  it('parses version and its --json flag', async () => {
    expect(await optionsOf('version')).toEqual({ name: 'version', options: { json: false } });
    expect(await optionsOf('version', '--json')).toEqual({ name: 'version', options: { json: true } });
  });

  it('parses profiles --json', async () => {
    expect(await optionsOf('profiles', '--json')).toEqual({ name: 'profiles', options: { json: true } });
  });

  it('parses plan with a cluster name and repeated -p overrides', async () => {
    expect(
      await optionsOf('plan', 'analytics', '-c', 'demo', '-p', 'a.b=1', '-p', 'c=x y', '--json'),
    ).toEqual({
      name: 'plan',
      options: { profile: 'analytics', cluster: 'demo', params: ['a.b=1', 'c=x y'], json: true },
    });
  });

  it('parses create with defaults: wait, no name, no overrides, text output', async () => {
    expect(await optionsOf('create', './p/gpu.json')).toEqual({
      name: 'create',
      options: {
        profile: './p/gpu.json',
        params: [],
        wait: true,
        open: { notebook: false, dashboard: false },
        json: false,
      },
    });
  });

  it('parses create --no-wait, long option names and repeated --param', async () => {
    expect(
      await optionsOf(
        'create',
        'analytics',
        '--cluster',
        'big',
        '--param',
        'dask.worker.count=8',
        '-p',
        'ready_timeout=60',
        '--no-wait',
        '--json',
      ),
    ).toEqual({
      name: 'create',
      options: {
        profile: 'analytics',
        cluster: 'big',
        params: ['dask.worker.count=8', 'ready_timeout=60'],
        wait: false,
        open: { notebook: false, dashboard: false },
        json: true,
      },
    });
  });

  it('parses create -n -d and their long names', async () => {
    for (const flags of [
      ['-n', '-d'],
      ['--open-notebook', '--open-dashboard'],
    ]) {
      expect((await optionsOf('create', 'analytics', ...flags))?.options).toMatchObject({
        open: { notebook: true, dashboard: true },
      });
    }
  });

  it('parses notebook NAME -u', async () => {
    expect(await optionsOf('notebook', 'analytics', '-u')).toEqual({
      name: 'notebook',
      options: { name: 'analytics', url: true, json: false },
    });
  });

  it('rejects an override without "="', async () => {
    await expect(parse('create', 'analytics', '-p', 'dask.worker.count')).rejects.toThrow(CommanderError);
  });

  it('parses ls -a --json', async () => {
    expect(await optionsOf('ls')).toEqual({ name: 'ls', options: { all: false, json: false } });
    expect(await optionsOf('ls', '-a', '--json')).toEqual({ name: 'ls', options: { all: true, json: true } });
  });

  it('parses desc NAME -d', async () => {
    expect(await optionsOf('desc', 'analytics', '-d')).toEqual({
      name: 'desc',
      options: { name: 'analytics', detail: true, json: false },
    });
  });

  it('parses destroy NAME -f --no-wait --json', async () => {
    expect(await optionsOf('destroy', 'analytics')).toEqual({
      name: 'destroy',
      options: { name: 'analytics', force: false, wait: true, json: false },
    });
    expect(await optionsOf('destroy', 'analytics', '-f', '--no-wait', '--json')).toEqual({
      name: 'destroy',
      options: { name: 'analytics', force: true, wait: false, json: true },
    });
  });

  it('parses destroy --if-failed, and destroyfailed as its alias with the same flags', async () => {
    expect(await optionsOf('destroy', 'analytics', '--if-failed', '-f')).toEqual({
      name: 'destroy',
      options: { name: 'analytics', force: true, wait: true, json: false, ifFailed: true },
    });
    expect(await optionsOf('destroyfailed', 'analytics', '-f', '--no-wait')).toEqual({
      name: 'destroy',
      options: { name: 'analytics', force: true, wait: false, json: false, ifFailed: true },
    });
  });

  it('parses rcmd NAME TARGET CMD..., passing every word after the target to the command', async () => {
    expect(await optionsOf('rcmd', 'analytics', 'all', 'ls', '-l', '--json')).toEqual({
      name: 'rcmd',
      options: { name: 'analytics', target: 'all', command: 'ls -l --json', follow: true, json: false },
    });
    expect(
      await optionsOf('rcmd', '--json', '--no-follow', '-t', '30', 'analytics', 'worker:0', 'uptime'),
    ).toEqual({
      name: 'rcmd',
      options: {
        name: 'analytics',
        target: 'worker:0',
        command: 'uptime',
        timeoutSeconds: 30,
        follow: false,
        json: true,
      },
    });
  });

  it('refuses rcmd without a command, and a timeout that is not whole seconds', async () => {
    await expect(parse('rcmd', 'analytics', 'all')).rejects.toThrow(CommanderError);
    await expect(parse('rcmd', '-t', '1.5', 'analytics', 'all', 'x')).rejects.toThrow(/whole seconds/);
  });

  it('parses run NAME FILE with repeated -p, -r and the remote-command flags', async () => {
    expect(
      await optionsOf('run', 'analytics', 'a.py', '-p', 'rows=1000', '-p', 'x=y', '-r', '--no-follow'),
    ).toEqual({
      name: 'run',
      options: {
        name: 'analytics',
        file: 'a.py',
        params: ['rows=1000', 'x=y'],
        restart: true,
        follow: false,
        json: false,
      },
    });
  });

  it('parses restart NAME --no-wait --json', async () => {
    expect(await optionsOf('restart', 'analytics')).toEqual({
      name: 'restart',
      options: { name: 'analytics', wait: true, json: false },
    });
    expect(await optionsOf('restart', 'analytics', '--no-wait', '--json')).toEqual({
      name: 'restart',
      options: { name: 'analytics', wait: false, json: true },
    });
  });

  it.each(['pause', 'resume'] as const)('parses %s NAME --no-wait --json', async (command) => {
    expect(await optionsOf(command, 'analytics')).toEqual({
      name: command,
      options: { name: 'analytics', wait: true, json: false },
    });
    expect(await optionsOf(command, 'analytics', '--no-wait', '--json')).toEqual({
      name: command,
      options: { name: 'analytics', wait: false, json: true },
    });
  });

  it('parses dashboard NAME -u --json', async () => {
    expect(await optionsOf('dashboard', 'analytics', '-u')).toEqual({
      name: 'dashboard',
      options: { name: 'analytics', url: true, json: false },
    });
    expect(await optionsOf('dashboard', 'analytics', '--json')).toEqual({
      name: 'dashboard',
      options: { name: 'analytics', url: false, json: true },
    });
  });

  it('parses local --port N --home DIR', async () => {
    expect(await optionsOf('local')).toEqual({ name: 'local', options: {} });
    expect(await optionsOf('local', '--port', '8787', '--home', '/tmp/b')).toEqual({
      name: 'local',
      options: { port: 8787, home: '/tmp/b' },
    });
  });

  it('parses local --provider ec2 with its subnets, security group, instance profile and default image', async () => {
    expect(
      await optionsOf(
        'local',
        '--provider',
        'ec2',
        '--subnet',
        'subnet-a',
        '--subnet',
        'subnet-b',
        '--security-group',
        'sg-0abc',
        '--allow-security-group',
        'sg-0def,sg-0123',
        '--instance-profile',
        'arn:aws:iam::123456789012:instance-profile/bilbo',
        '--default-ami',
        'ami-0abc',
      ),
    ).toEqual({
      name: 'local',
      options: {
        provider: {
          kind: 'ec2',
          subnetIds: ['subnet-a', 'subnet-b'],
          securityGroupId: 'sg-0abc',
          allowedSecurityGroupIds: ['sg-0def', 'sg-0123'],
          instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/bilbo',
          defaultAmi: 'ami-0abc',
        },
      },
    });
  });

  it('refuses local --provider ec2 without the flags it needs, naming them', async () => {
    await expect(parse('local', '--provider', 'ec2', '--subnet', 'subnet-a')).rejects.toThrow(
      '--provider ec2 needs --security-group, --instance-profile',
    );
    await expect(parse('local', '--provider', 'gcp')).rejects.toThrow(CommanderError);
  });

  it('parses local --reap-every as a duration from 1s to 1h, and refuses others', async () => {
    expect(await optionsOf('local', '--reap-every', '1s')).toEqual({
      name: 'local',
      options: { reapEveryMs: 1000 },
    });
    expect(await optionsOf('local', '--reap-every', '5m')).toEqual({
      name: 'local',
      options: { reapEveryMs: 300_000 },
    });
    expect(await optionsOf('local', '--reap-every', '90')).toEqual({
      name: 'local',
      options: { reapEveryMs: 90_000 },
    });
    for (const bad of ['0s', '2h', 'soon', '500ms']) {
      await expect(parse('local', '--reap-every', bad)).rejects.toThrow(CommanderError);
    }
  });

  it("parses local's reaper settings into seconds (and looks), 0 turning the ceiling and paused_max_age off", async () => {
    expect(
      await optionsOf(
        'local',
        '--max-lifetime-ceiling',
        '12h',
        '--paused-max-age',
        '7d',
        '--orphan-grace',
        '2s',
        '--unknown-looks-before-failed',
        '0',
      ),
    ).toEqual({
      name: 'local',
      options: {
        reaper: {
          maxLifetimeCeilingSeconds: 43_200,
          pausedMaxAgeSeconds: 604_800,
          orphanGraceSeconds: 2,
          unknownLooksBeforeFailed: 0,
        },
      },
    });
    expect(await optionsOf('local', '--max-lifetime-ceiling', '0', '--paused-max-age', '90')).toEqual({
      name: 'local',
      options: { reaper: { maxLifetimeCeilingSeconds: 0, pausedMaxAgeSeconds: 90 } },
    });
    for (const [flag, bad] of [
      ['--max-lifetime-ceiling', '366d'],
      ['--paused-max-age', 'soon'],
      ['--orphan-grace', '0'],
      ['--orphan-grace', '2d'],
      ['--unknown-looks-before-failed', '-1'],
      ['--unknown-looks-before-failed', '1.5'],
    ] as const) {
      await expect(parse('local', flag, bad), `${flag} ${bad}`).rejects.toThrow(CommanderError);
    }
  });

  it('parses reap --dry-run --json', async () => {
    expect(await optionsOf('reap')).toEqual({ name: 'reap', options: { dryRun: false, json: false } });
    expect(await optionsOf('reap', '-n', '--json')).toEqual({
      name: 'reap',
      options: { dryRun: true, json: true },
    });
  });

  it('rejects a port that is not a number', async () => {
    await expect(parse('local', '--port', 'http')).rejects.toThrow(CommanderError);
  });

  it('rejects an unknown flag and says so on stderr', async () => {
    const fake = fakeFactory();
    const program = buildProgram(fake.f, async () => {});
    await expect(program.parseAsync(['ls', '--bogus'], { from: 'user' })).rejects.toThrow(CommanderError);
    expect(fake.stderr.text).toContain("unknown option '--bogus'");
  });

  it('rejects a missing argument', async () => {
    await expect(parse('desc')).rejects.toThrow(CommanderError);
  });

  it('writes help with imperative summaries and $ examples to stdout', async () => {
    const fake = fakeFactory();
    const program = buildProgram(fake.f, async () => {});
    await expect(program.parseAsync(['create', '--help'], { from: 'user' })).rejects.toThrow(CommanderError);
    expect(fake.stdout.text).toContain('Create a cluster from a profile');
    expect(fake.stdout.text).toMatch(/^ {2}\$ bilbo create analytics$/m);
  });
});
