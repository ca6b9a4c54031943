/**
 * The command tree: every command's flags and help, and the mapping of the
 * parsed flags to that command's options object. The work lives in
 * cli/commands/<name>.ts, imported only when its command runs, so that
 * start-up (and `bilbo version`) loads nothing but commander.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { REAPER_LIMITS } from '../lambdas/domain/reaper/limits.ts';
import type { CreateOptions } from './commands/create.ts';
import type { DashboardOptions } from './commands/dashboard.ts';
import type { DescOptions } from './commands/desc.ts';
import type { DestroyOptions } from './commands/destroy.ts';
import type { LocalOptions } from './commands/local.ts';
import type { LsOptions } from './commands/ls.ts';
import type { NotebookOptions } from './commands/notebook.ts';
import type { PauseOptions } from './commands/pause.ts';
import type { PlanOptions } from './commands/plan.ts';
import type { ProfilesOptions } from './commands/profiles.ts';
import type { RcmdOptions } from './commands/rcmd.ts';
import type { ReapOptions } from './commands/reap.ts';
import type { RestartOptions } from './commands/restart.ts';
import type { ResumeOptions } from './commands/resume.ts';
import type { RunOptions } from './commands/run.ts';
import type { VersionOptions } from './commands/version.ts';
import { UsageError } from './errors.ts';
import type { Factory } from './factory.ts';

export interface CommandOptions {
  version: VersionOptions;
  profiles: ProfilesOptions;
  plan: PlanOptions;
  create: CreateOptions;
  ls: LsOptions;
  desc: DescOptions;
  destroy: DestroyOptions;
  rcmd: RcmdOptions;
  run: RunOptions;
  restart: RestartOptions;
  pause: PauseOptions;
  resume: ResumeOptions;
  dashboard: DashboardOptions;
  notebook: NotebookOptions;
  reap: ReapOptions;
  local: LocalOptions;
}

export type CommandName = keyof CommandOptions;

/** Does a command's work with its parsed options. Tests pass one that records them. */
export type Runner = <K extends CommandName>(name: K, options: CommandOptions[K]) => Promise<void>;

export function lazyRunner(f: Factory): Runner {
  const commands: { [K in CommandName]: (options: CommandOptions[K]) => Promise<void> } = {
    version: async (o) => (await import('./commands/version.ts')).versionRun(o, f),
    profiles: async (o) => (await import('./commands/profiles.ts')).profilesRun(o, f),
    plan: async (o) => (await import('./commands/plan.ts')).planRun(o, f),
    create: async (o) => (await import('./commands/create.ts')).createRun(o, f),
    ls: async (o) => (await import('./commands/ls.ts')).lsRun(o, f),
    desc: async (o) => (await import('./commands/desc.ts')).descRun(o, f),
    destroy: async (o) => (await import('./commands/destroy.ts')).destroyRun(o, f),
    rcmd: async (o) => (await import('./commands/rcmd.ts')).rcmdRun(o, f),
    run: async (o) => (await import('./commands/run.ts')).runRun(o, f),
    restart: async (o) => (await import('./commands/restart.ts')).restartRun(o, f),
    pause: async (o) => (await import('./commands/pause.ts')).pauseRun(o, f),
    resume: async (o) => (await import('./commands/resume.ts')).resumeRun(o, f),
    dashboard: async (o) => (await import('./commands/dashboard.ts')).dashboardRun(o, f),
    notebook: async (o) => (await import('./commands/notebook.ts')).notebookRun(o, f),
    reap: async (o) => (await import('./commands/reap.ts')).reapRun(o, f),
    local: async (o) => (await import('./commands/local.ts')).localRun(o, f),
  };
  return (name, options) => commands[name](options);
}

const MAX_PARAMS = 64;

function collectParam(value: string, previous: string[] | undefined = []): string[] {
  if (!/^[^=\s]+=/.test(value)) {
    throw new InvalidArgumentError('expected key.path=value, e.g. -p dask.worker.count=4');
  }
  if (previous.length >= MAX_PARAMS) throw new InvalidArgumentError(`at most ${MAX_PARAMS} overrides`);
  return [...previous, value];
}

function collectRunParam(value: string, previous: string[] | undefined = []): string[] {
  if (!/^[^=\s]+=/.test(value)) throw new InvalidArgumentError('expected name=value, e.g. -p rows=1000');
  return [...previous, value];
}

function parseTimeout(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > 172_800) {
    throw new InvalidArgumentError('expected whole seconds from 1 to 172800 (2 days)');
  }
  return seconds;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--reap-every`: `90`, `90s`, `5m` or `1h`, from 1 second to an hour, in milliseconds. */
function parseReapEvery(value: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(value);
  const ms = match
    ? Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] as 's' | 'm' | 'h') ?? 's']
    : Number.NaN;
  if (!(ms >= 1_000 && ms <= 3_600_000)) {
    throw new InvalidArgumentError('expected a duration from 1s to 1h, such as 30s, 5m or 1h');
  }
  return ms;
}

const SECONDS_PER = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/**
 * A reaper setting's duration, in seconds: `90`, `90s`, `15m`, `2h` or `7d`,
 * from `min` to `max` seconds; `0` too when it turns the setting off.
 */
function settingSeconds(range: { min: number; max: number; off?: boolean }) {
  return (value: string): number => {
    if (range.off && value === '0') return 0;
    const match = /^(\d+)(s|m|h|d)?$/.exec(value);
    const seconds = match
      ? Number(match[1]) * SECONDS_PER[(match[2] as keyof typeof SECONDS_PER) ?? 's']
      : Number.NaN;
    if (!(seconds >= range.min && seconds <= range.max)) {
      throw new InvalidArgumentError(
        `expected ${range.off ? '0 (off) or ' : ''}a duration from ${range.min}s to ${range.max / 86_400}d, such as 90s, 15m, 2h or 7d`,
      );
    }
    return seconds;
  };
}

/** `--unknown-looks-before-failed`: a whole number; 0 never marks a cluster FAILED for it. */
function parseLooks(value: string): number {
  const looks = Number(value);
  if (!/^\d+$/.test(value) || looks > REAPER_LIMITS.unknownLooksBeforeFailed.max) {
    throw new InvalidArgumentError(
      `expected a whole number from 0 to ${REAPER_LIMITS.unknownLooksBeforeFailed.max}`,
    );
  }
  return looks;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65_535) {
    throw new InvalidArgumentError('expected a port number from 1 to 65535');
  }
  return port;
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
}

const jsonOption = (description = 'print machine-readable JSON') => new Option('--json', description);

export function buildProgram(f: Factory, run: Runner = lazyRunner(f)): Command {
  const program = new Command('bilbo')
    .description('Create, watch and remove Dask clusters on AWS through the bilbo control plane.')
    .version(f.version(), '-V, --version', 'print the version')
    .helpCommand('help [command]', 'Show help for a command.')
    .showSuggestionAfterError()
    // Needed by rcmd's pass-through: the program's own flags stay before the command name.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => f.io.stdout.write(text),
      writeErr: (text) => f.io.stderr.write(text),
    })
    .addHelpText(
      'after',
      `${examples(
        '$ bilbo local',
        '$ bilbo create analytics -p dask.worker.count=4',
        '$ bilbo ls',
        '$ bilbo destroy analytics',
      )}\nEnvironment:\n  BILBO_ENDPOINT  the bilbo API (else "endpoint" in $BILBO_HOME/config.json)\n` +
        '  BILBO_REGION    its AWS region (else AWS_REGION, config.json, us-east-1)\n' +
        '  BILBO_HOME      profiles and config (default ~/.bilbo)\n',
    );
  // Subcommands inherit exitOverride, the output streams and suggestions from the program.
  const command = (name: string, summary: string) => program.command(name).description(summary);

  command('version', 'Print the version of bilbo.')
    .addOption(jsonOption())
    .addHelpText('after', examples('$ bilbo version', '$ bilbo version --json'))
    .action(async (o: { json?: boolean }) => run('version', { json: o.json === true }));

  command('profiles', 'List the profiles in $BILBO_HOME/profiles and check each one.')
    .addOption(jsonOption())
    .addHelpText('after', examples('$ bilbo profiles', '$ bilbo profiles --json'))
    .action(async (o: { json?: boolean }) => run('profiles', { json: o.json === true }));

  command('plan', 'Show what creating a cluster from a profile would launch.')
    .argument('<profile>', 'profile name in $BILBO_HOME/profiles, or a path to a .json file')
    .option('-c, --cluster <name>', 'cluster name (default: the profile file name)')
    .option('-p, --param <key=value>', 'override a profile value; repeatable', collectParam)
    .addOption(jsonOption())
    .addHelpText(
      'after',
      examples('$ bilbo plan analytics', '$ bilbo plan ./big.json -c big -p dask.worker.count=8 --json'),
    )
    .action(async (profile: string, o: { cluster?: string; param?: string[]; json?: boolean }) =>
      run('plan', { profile, ...clusterOf(o), params: o.param ?? [], json: o.json === true }),
    );

  command('create', 'Create a cluster from a profile and wait until it is ready.')
    .argument('<profile>', 'profile name in $BILBO_HOME/profiles, or a path to a .json file')
    .option('-c, --cluster <name>', 'cluster name (default: the profile file name)')
    .option('-p, --param <key=value>', 'override a profile value; repeatable', collectParam)
    .option('--no-wait', 'return as soon as the creation has started')
    .option('-n, --open-notebook', 'open the notebook in the browser once the cluster is ready')
    .option('-d, --open-dashboard', 'open the Dask dashboard in the browser once the cluster is ready')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      examples(
        '$ bilbo create analytics',
        '$ bilbo create analytics -c demo -p dask.worker.count=4 -p dask.worker.nthread=2',
        '$ bilbo create notebook -n -d',
        '$ bilbo create ./profiles/gpu.json --no-wait --json',
      ),
    )
    .action(
      async (
        profile: string,
        o: {
          cluster?: string;
          param?: string[];
          wait: boolean;
          openNotebook?: boolean;
          openDashboard?: boolean;
          json?: boolean;
        },
      ) => {
        if (!o.wait && (o.openNotebook || o.openDashboard)) {
          throw new UsageError('-n and -d open the cluster once it is ready: they do not go with --no-wait');
        }
        await run('create', {
          profile,
          ...clusterOf(o),
          params: o.param ?? [],
          wait: o.wait,
          open: { notebook: o.openNotebook === true, dashboard: o.openDashboard === true },
          json: o.json === true,
        });
      },
    );

  command('ls', 'List the clusters, newest first.')
    .option('-a, --all', 'include destroyed and failed clusters')
    .addOption(jsonOption())
    .addHelpText('after', examples('$ bilbo ls', '$ bilbo ls -a --json'))
    .action(async (o: { all?: boolean; json?: boolean }) =>
      run('ls', { all: o.all === true, json: o.json === true }),
    );

  command('desc', 'Describe a cluster.')
    .argument('<name>', 'cluster name')
    .option(
      '-d, --detail',
      'print the whole record, every event and the newest commands as JSON, secrets redacted',
    )
    .addOption(jsonOption())
    .addHelpText('after', examples('$ bilbo desc analytics', '$ bilbo desc analytics -d'))
    .action(async (name: string, o: { detail?: boolean; json?: boolean }) =>
      run('desc', { name, detail: o.detail === true, json: o.json === true }),
    );

  const destroyFlags = (c: Command) =>
    c
      .argument('<name>', 'cluster name')
      .option('-f, --force', 'do not ask, and do not check for unsaved work (needed when not on a terminal)')
      .option('--no-wait', 'return as soon as the destruction has started')
      .addOption(jsonOption());
  const destroyOptionsOf = (name: string, o: DestroyFlags, ifFailed: boolean): DestroyOptions => ({
    name,
    force: o.force === true,
    wait: o.wait,
    json: o.json === true,
    ...(ifFailed ? { ifFailed } : {}),
  });

  destroyFlags(command('destroy', 'Destroy a cluster and wait until its instances are gone.'))
    .option('--if-failed', "only when the cluster's last command failed or timed out")
    .addHelpText(
      'after',
      `${examples('$ bilbo destroy analytics', '$ bilbo destroy analytics -f --no-wait', '$ bilbo destroy analytics --if-failed -f')}\n` +
        'With a notebook, destroy first looks for work its git repositories would lose\n' +
        '(uncommitted or untracked files, stashes, commits on no remote branch) and asks; -f skips that.\n',
    )
    .action(async (name: string, o: DestroyFlags & { ifFailed?: boolean }) =>
      run('destroy', destroyOptionsOf(name, o, o.ifFailed === true)),
    );

  destroyFlags(
    command('destroyfailed', 'Destroy a cluster if its last command failed (destroy --if-failed).'),
  )
    .addHelpText('after', examples('$ bilbo destroyfailed analytics -f'))
    .action(async (name: string, o: DestroyFlags) => run('destroy', destroyOptionsOf(name, o, true)));

  const remoteFlags = (c: Command) =>
    c
      .option('-t, --timeout <seconds>', 'stop the command after this long (default: 3600)', parseTimeout)
      .option('--no-follow', 'print the command id and return at once')
      .addOption(jsonOption('print the final command record; its output goes to stderr'));

  remoteFlags(
    command(
      'rcmd',
      "Run a shell command on a cluster's instances and show its output; exits with its exit code.",
    )
      .argument('<name>', 'cluster name')
      .argument('<target>', 'scheduler, notebook, worker, worker:N, all, an instance id or an address')
      .argument('<command...>', 'the command: its words are joined with spaces (or quote it whole)')
      // Everything after the cluster name is the command's, so `rcmd c all ls -l` works: flags go first.
      .passThroughOptions(),
  )
    .addHelpText(
      'after',
      `${examples(
        '$ bilbo rcmd analytics scheduler uptime',
        "$ bilbo rcmd analytics all 'df -h /tmp'",
        '$ bilbo rcmd --json -t 60 analytics worker:1 python3 -c "import os; print(os.cpu_count())"',
      )}\nbilbo's own flags come before the cluster name. With several instances, each line starts\n` +
        'with [role-index] and a summary follows on stderr; the exit code is the first non-zero one.\n',
    )
    .action(async (name: string, target: string, words: string[], o: RemoteFlags) =>
      run('rcmd', {
        name,
        target,
        command: (words[0] === '--' ? words.slice(1) : words).join(' '),
        ...remoteOptionsOf(o),
      }),
    );

  remoteFlags(
    command('run', 'Run a notebook (.ipynb) or a Python file (.py) on a cluster and show its output.')
      .argument('<name>', 'cluster name')
      .argument('<file>', 'the .ipynb or .py file on this machine')
      .option(
        '-p, --param <name=value>',
        'a parameter (papermill parameter, or environment variable for .py); repeatable',
        collectRunParam,
      )
      .option('-r, --restart', "restart the cluster's Dask once the run ends"),
  )
    .addHelpText(
      'after',
      `${examples('$ bilbo run analytics train.ipynb -p epochs=3 -p lr=0.01', '$ bilbo run analytics prepare.py -p rows=1000 -r')}\n` +
        'Values are typed like profile overrides: numbers, true/false and null as such, anything else as text.\n',
    )
    .action(async (name: string, file: string, o: RemoteFlags & { param?: string[]; restart?: boolean }) =>
      run('run', { name, file, params: o.param ?? [], restart: o.restart === true, ...remoteOptionsOf(o) }),
    );

  command(
    'restart',
    'Restart the Dask scheduler and workers of a cluster (not its notebook) and wait until it is ready.',
  )
    .argument('<name>', 'cluster name')
    .option('--no-wait', 'return as soon as the restart has started')
    .addOption(jsonOption())
    .addHelpText('after', examples('$ bilbo restart analytics', '$ bilbo restart analytics --no-wait --json'))
    .action(async (name: string, o: { wait: boolean; json?: boolean }) =>
      run('restart', { name, wait: o.wait, json: o.json === true }),
    );

  command('pause', 'Stop every machine of a cluster, keeping their disks, and wait until it is paused.')
    .argument('<name>', 'cluster name')
    .option('--no-wait', 'return as soon as the pause has started')
    .addOption(jsonOption())
    .addHelpText('after', examples('$ bilbo pause analytics', '$ bilbo pause analytics --no-wait --json'))
    .action(async (name: string, o: { wait: boolean; json?: boolean }) =>
      run('pause', { name, wait: o.wait, json: o.json === true }),
    );

  command('resume', "Start a paused cluster's machines again and wait until it is ready.")
    .argument('<name>', 'cluster name')
    .option('--no-wait', 'return as soon as the resume has started')
    .addOption(jsonOption())
    .addHelpText('after', examples('$ bilbo resume analytics', '$ bilbo resume analytics --json'))
    .action(async (name: string, o: { wait: boolean; json?: boolean }) =>
      run('resume', { name, wait: o.wait, json: o.json === true }),
    );

  command('dashboard', "Open a cluster's Dask dashboard in the browser.")
    .argument('<name>', 'cluster name')
    .option('-u, --url', 'print the URL instead of opening it')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `${examples('$ bilbo dashboard analytics', '$ bilbo dashboard analytics -u', '$ BROWSER=firefox bilbo dashboard analytics')}\n` +
        "The browser: the profile's webbrowser, else $BROWSER (entries separated by ':', %s for the URL),\n" +
        'else the platform opener (xdg-open only with a display). Without one, the URL is printed.\n',
    )
    .action(async (name: string, o: { url?: boolean; json?: boolean }) =>
      run('dashboard', { name, url: o.url === true, json: o.json === true }),
    );

  command('notebook', "Open a cluster's notebook (Jupyter) in the browser, logged in with its token.")
    .argument('<name>', 'cluster name')
    .option('-u, --url', 'print the URL, token included, instead of opening it')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `${examples('$ bilbo notebook analytics', '$ bilbo notebook analytics -u')}\n` +
        "Only the cluster's owner and admins get the URL: its token lets whoever holds it run code on the cluster.\n" +
        'The browser is chosen as for `bilbo dashboard`.\n',
    )
    .action(async (name: string, o: { url?: boolean; json?: boolean }) =>
      run('notebook', { name, url: o.url === true, json: o.json === true }),
    );

  command('reap', 'Run one sweep of the reaper now (admins only) and print what it did.')
    .option('-n, --dry-run', 'change nothing: print what the sweep would do')
    .addOption(jsonOption())
    .addHelpText('after', examples('$ bilbo reap --dry-run', '$ bilbo reap --json'))
    .action(async (o: { dryRun?: boolean; json?: boolean }) =>
      run('reap', { dryRun: o.dryRun === true, json: o.json === true }),
    );

  command(
    'local',
    'Run the control plane on this machine: Dask as local processes, or on EC2 with your credentials.',
  )
    .option('--port <n>', 'port of the local API (default: any free port)', parsePort)
    .option('--home <dir>', 'folder for the local state (default: $BILBO_HOME)')
    .addOption(
      new Option('--provider <name>', 'where clusters run').choices(['local', 'ec2']).default('local'),
    )
    .option('--subnet <id>', 'EC2 subnet for the instances (ec2)', collect, [])
    .option('--security-group <id>', 'security group the control plane can reach the instances through (ec2)')
    .option(
      '--allow-security-group <ids>',
      'security groups profiles may add to the instances (instance.security_group; ec2)',
      list,
      [],
    )
    .option('--instance-profile <arn>', 'instance profile the instances run with (ec2)')
    .option('--default-ami <id>', 'image for profiles without instance.ami (ec2)')
    .option(
      '--reap-every <duration>',
      'how often the reaper sweeps: 1s to 1h, e.g. 30s, 5m (default: 1m)',
      parseReapEvery,
    )
    .option(
      '--max-lifetime-ceiling <duration>',
      'no cluster lives longer, whatever its max_lifetime: 0 (off, the default) or 1s to 365d',
      settingSeconds({ min: 1, max: REAPER_LIMITS.maxLifetimeCeilingSeconds.max, off: true }),
    )
    .option(
      '--paused-max-age <duration>',
      'destroy clusters paused this long (not those with a notebook): 0 (off, the default) or 1s to 365d',
      settingSeconds({ min: 1, max: REAPER_LIMITS.pausedMaxAgeSeconds.max, off: true }),
    )
    .option(
      '--orphan-grace <duration>',
      'how old a leftover process of no live cluster must be before it is removed: 1s to 1d (default: 15m)',
      settingSeconds({ min: 1, max: REAPER_LIMITS.orphanGraceSeconds.max }),
    )
    .option(
      '--unknown-looks-before-failed <n>',
      'looks that cannot tell a READY cluster’s activity, its machines gone, before it is FAILED; 0: never (default: 3)',
      parseLooks,
    )
    .option('--users <names>', 'more local identities, comma-separated; prints a key pair for each', list, [])
    .option(
      '--admin <principal>',
      'may change any cluster: an IAM ARN, or a local user name (repeatable)',
      collect,
      [],
    )
    .addHelpText(
      'after',
      examples(
        '$ bilbo local',
        '$ bilbo local --port 8787 --home /tmp/bilbo',
        '$ bilbo local --users alice,bob --admin alice',
        '$ bilbo local --reap-every 30s --max-lifetime-ceiling 12h --paused-max-age 7d',
        '$ bilbo local --provider ec2 --subnet subnet-0abc --security-group sg-0abc --instance-profile arn:aws:iam::123456789012:instance-profile/bilbo',
      ),
    )
    .action(async (o: LocalFlags) => run('local', localOptionsOf(o)));

  return program;
}

interface DestroyFlags {
  force?: boolean;
  wait: boolean;
  json?: boolean;
}

interface RemoteFlags {
  timeout?: number;
  follow: boolean;
  json?: boolean;
}

function remoteOptionsOf(o: RemoteFlags): { timeoutSeconds?: number; follow: boolean; json: boolean } {
  return {
    ...(o.timeout === undefined ? {} : { timeoutSeconds: o.timeout }),
    follow: o.follow,
    json: o.json === true,
  };
}

interface LocalFlags {
  reapEvery?: number;
  maxLifetimeCeiling?: number;
  pausedMaxAge?: number;
  orphanGrace?: number;
  unknownLooksBeforeFailed?: number;
  port?: number;
  home?: string;
  provider: 'local' | 'ec2';
  subnet: string[];
  securityGroup?: string;
  allowSecurityGroup: string[];
  instanceProfile?: string;
  defaultAmi?: string;
  users: string[];
  admin: string[];
}

function localOptionsOf(o: LocalFlags): LocalOptions {
  const base = {
    ...(o.port === undefined ? {} : { port: o.port }),
    ...(o.home === undefined ? {} : { home: o.home }),
    ...(o.users.length > 0 ? { users: o.users } : {}),
    ...(o.admin.length > 0 ? { admins: o.admin } : {}),
    ...(o.reapEvery === undefined ? {} : { reapEveryMs: o.reapEvery }),
    ...(reaperOf(o) ? { reaper: reaperOf(o) } : {}),
  };
  if (o.provider === 'local') return base;
  const missing = [
    o.subnet.length === 0 ? '--subnet' : undefined,
    o.securityGroup ? undefined : '--security-group',
    o.instanceProfile ? undefined : '--instance-profile',
  ].filter((flag) => flag !== undefined);
  if (missing.length > 0) throw new UsageError(`--provider ec2 needs ${missing.join(', ')}`);
  return {
    ...base,
    provider: {
      kind: 'ec2',
      subnetIds: o.subnet,
      securityGroupId: o.securityGroup!,
      ...(o.allowSecurityGroup.length > 0 ? { allowedSecurityGroupIds: o.allowSecurityGroup } : {}),
      instanceProfileArn: o.instanceProfile!,
      ...(o.defaultAmi ? { defaultAmi: o.defaultAmi } : {}),
    },
  };
}

/** The reaper settings the flags set, or undefined when none is. */
function reaperOf(o: LocalFlags): LocalOptions['reaper'] {
  const reaper = {
    ...(o.maxLifetimeCeiling === undefined ? {} : { maxLifetimeCeilingSeconds: o.maxLifetimeCeiling }),
    ...(o.pausedMaxAge === undefined ? {} : { pausedMaxAgeSeconds: o.pausedMaxAge }),
    ...(o.orphanGrace === undefined ? {} : { orphanGraceSeconds: o.orphanGrace }),
    ...(o.unknownLooksBeforeFailed === undefined
      ? {}
      : { unknownLooksBeforeFailed: o.unknownLooksBeforeFailed }),
  };
  return Object.keys(reaper).length > 0 ? reaper : undefined;
}

/** `a,b` and `--users a --users b` alike. */
function list(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  ];
}

function clusterOf(o: { cluster?: string }): { cluster?: string } {
  return o.cluster === undefined ? {} : { cluster: o.cluster };
}
