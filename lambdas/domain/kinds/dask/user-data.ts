/**
 * The EC2 user-data of a Dask role: a bash script that runs once, as root,
 * at the instance's first boot. It relies on the bilbo machine image
 * (infra/ami): a venv at /opt/bilbo/venv with dask, jupyterlab and boto3,
 * a `dask` user with home /home/dask, git and systemd.
 *
 * Anyone allowed ec2:DescribeInstanceAttribute can read user-data, so it
 * carries secret NAMES only: the instance reads the values from SSM with its
 * instance role. The notebook's git clones are not here: they run after the
 * services answer, as the create's setup commands (git.ts), so a failed
 * clone is an event the control plane sees. Profile values are data, never code: each is shell-quoted
 * once into /etc/bilbo/cluster.conf (bash re-quotes it with `printf %q`),
 * and the services' launcher scripts, which are bilbo's own constant text,
 * read them from there. No profile value is written into a systemd unit.
 */
import { CUSTOM_FORMATS, isHomePath, relativeToHome } from '../../../../schemas/formats.ts';
import type { RoleName } from '../../../../schemas/types.generated.ts';
import { continued, shellQuote, writeFile } from '../../boot/shell.ts';
import { renderUnit } from '../../boot/systemd.ts';
import { ValidationError } from '../../errors.ts';
import type { DaskBootstrap } from './bootstrap.ts';
import { DASK_PORTS } from './ports.ts';
import { daskUnitOf } from './services.ts';

/** EC2 refuses user-data over 16 KB (raw bytes, before base64). */
export const USER_DATA_MAX_BYTES = 16_384;

/** The image's service user (infra/ami), who runs every role's services. */
export const DASK_USER = 'dask';
export const DASK_HOME = '/home/dask';
export const DEFAULT_WORKDIR = `${DASK_HOME}/works`;

export interface UserDataInput {
  clusterId: string;
  clusterName: string;
  role: RoleName;
  bootstrap: DaskBootstrap;
  /** The region of the instance's SSM parameters. */
  region: string;
}

export interface UserDataOptions {
  /**
   * For tests: a directory every path the script touches is put under, so
   * the script can run for real in a sandbox. @default '' (the machine's root)
   */
  root?: string;
}

const VENV_BIN = '/opt/bilbo/venv/bin';
/** The image's Python, with boto3: what reads secrets on an instance. */
export const IMAGE_PYTHON = `${VENV_BIN}/python`;
const BIN = '/opt/bilbo/bin';
const CONF = '/etc/bilbo/cluster.conf';
const FETCH_SECRET = `${BIN}/fetch-secret.py`;
const TOKEN_ENV = '/etc/bilbo/notebook.env';

/**
 * Reads one SecureString with the instance role into a root-only (0600)
 * systemd EnvironmentFile line. The value never appears on a command line.
 */
const FETCH_SECRET_PY = String.raw`import os, re, sys
import boto3

region, name, target, variable = sys.argv[1:5]
ssm = boto3.client("ssm", region_name=region)
value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
# In a systemd EnvironmentFile's double quotes, \ " $ and backtick are escaped.
lines = ['%s="%s"\n' % (variable, re.sub(r'(["\\$\x60])', r"\\\1", value))]
fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.fchmod(fd, 0o600)
with os.fdopen(fd, "w", encoding="utf-8") as out:
    out.writelines(lines)
`;

/** The bash script EC2 runs at the role's first boot (see the module comment). */
export function renderUserData(input: UserDataInput, options: UserDataOptions = {}): string {
  const root = options.root ?? '';
  if (!/^(\/[A-Za-z0-9._-]+)*$/.test(root)) throw new Error(`unsafe sandbox root: ${root}`);
  const at = (path: string): string => `${root}${path}`;
  const { role } = input;

  const launcher = launcherOf(input, at);
  const notebook = role === 'notebook' ? notebookParts(input, at) : undefined;
  const unit = daskUnitOf(role);
  const sections = [
    [
      '#!/bin/bash',
      '# Profile values are single-quoted on purpose: they are data, never expanded here.',
      '# shellcheck disable=SC1003,SC2016',
      `# bilbo: bootstraps a Dask ${role} (lambdas/domain/kinds/dask/user-data.ts).`,
      'set -euo pipefail',
      'umask 022',
      `install -d -m 0755 ${at(BIN)} ${at('/etc/bilbo')} ${at('/etc/systemd/system')}`,
    ].join('\n'),
    confWriter(input, at),
    ...(notebook?.files ?? []),
    writeFile(at(`${BIN}/start-${role}.sh`), launcher, '0755'),
    writeFile(
      at(`/etc/systemd/system/${unit}`),
      renderUnit({
        description: `bilbo Dask ${role}`,
        user: DASK_USER,
        execStart: at(`${BIN}/start-${role}.sh`),
        ...(notebook ? { execStartPre: at(`${BIN}/notebook-token.sh`), environmentFile: at(TOKEN_ENV) } : {}),
      }),
      '0644',
    ),
    ...(notebook?.actions ?? []),
    ...loginUserActions(input),
    `systemctl daemon-reload && systemctl enable --now ${unit}`,
  ];
  const script = `${sections.join('\n\n')}\n`;

  const bytes = new TextEncoder().encode(script).length;
  if (bytes > USER_DATA_MAX_BYTES) {
    throw new ValidationError(
      `the ${role}'s boot script is ${bytes} bytes, over EC2's ${USER_DATA_MAX_BYTES}-byte user-data limit: shorten the cluster's name or the notebook's workdir`,
    );
  }
  return script;
}

/** Where the notebook works: the profile's workdir, relative paths and `~` under the dask user's home. */
export function notebookWorkdir(workdir: string | undefined): string {
  if (workdir === undefined || workdir === '') return DEFAULT_WORKDIR;
  // The boot script makes this folder the dask user's, as root: never outside its home.
  if (!isHomePath(workdir))
    throw new ValidationError(`notebook.workdir: ${CUSTOM_FORMATS['home-path']?.requirement}`, {
      field: 'notebook.workdir',
    });
  const relative = relativeToHome(workdir);
  return relative === '' ? DASK_HOME : `${DASK_HOME}/${relative}`;
}

/** The notebook's workdir relative to the dask user's home (`''` for the home itself). */
export function notebookWorkdirInHome(workdir: string | undefined): string {
  const absolute = notebookWorkdir(workdir);
  return absolute === DASK_HOME ? '' : absolute.slice(DASK_HOME.length + 1);
}

/** Every profile value the role needs, each quoted once, into a file bash sources. */
function confWriter({ clusterId, clusterName, role, bootstrap, region }: UserDataInput, at: Pathing): string {
  const values: [string, string][] = [
    ['BILBO_CLUSTER_ID', clusterId],
    ['BILBO_CLUSTER_NAME', clusterName],
    ['BILBO_ROLE', role],
    ['BILBO_REGION', region],
  ];
  if (bootstrap.schedulerAddress !== undefined) {
    values.push(['BILBO_SCHEDULER_ADDRESS', bootstrap.schedulerAddress]);
  }
  if (role === 'notebook') {
    values.push(['BILBO_WORKDIR', notebookWorkdir(bootstrap.notebook?.workdir)]);
    const token = bootstrap.secrets?.jupyterToken;
    if (token !== undefined) values.push(['BILBO_JUPYTER_TOKEN_PARAMETER', token]);
  }
  return continued(
    "printf '%s=%q\\n'",
    values.map(([name, value]) => `${name} ${shellQuote(value)}`),
    `>${at(CONF)}`,
  );
}

type Pathing = (path: string) => string;

function sourceConf(at: Pathing): string[] {
  return ['# shellcheck source=/dev/null', `source ${at(CONF)}`];
}

/** The script systemd runs as the dask user: bilbo's own text; profile values come from the conf file. */
function launcherOf({ role, bootstrap }: UserDataInput, at: Pathing): string {
  const header = ['#!/bin/bash', 'set -euo pipefail'];
  const bin = at(VENV_BIN);
  switch (role) {
    case 'scheduler':
      return [
        ...header,
        `exec ${bin}/dask scheduler --port ${DASK_PORTS.scheduler.number} --dashboard-address :${DASK_PORTS.dashboard.number}`,
      ].join('\n');
    case 'worker': {
      const { dask, schedulerAddress } = bootstrap;
      if (schedulerAddress === undefined) throw new Error('a Dask worker needs the scheduler address');
      if (!dask) throw new Error('a Dask worker needs its sizing (nworkers, nthreads, memory limit)');
      const nworkers = count(dask.nworkers, 1, 'nworkers');
      const nthreads = count(dask.nthreads, 1, 'nthreads');
      const memoryLimit = count(dask.memoryLimitBytes, 0, 'memoryLimitBytes');
      return [
        ...header,
        ...sourceConf(at),
        `exec ${bin}/dask worker "$BILBO_SCHEDULER_ADDRESS" --nworkers ${nworkers} --nthreads ${nthreads} --memory-limit ${memoryLimit}`,
      ].join('\n');
    }
    case 'notebook':
      return [
        ...header,
        ...sourceConf(at),
        // `Client()` with no argument connects to it; a notebook without Dask has none.
        ...(bootstrap.schedulerAddress === undefined
          ? []
          : ['export DASK_SCHEDULER_ADDRESS="$BILBO_SCHEDULER_ADDRESS"']),
        `cd -- "${at('')}$BILBO_WORKDIR"`,
        // What Jupyter writes, the login user's commands may change too (the dask group).
        'umask 0002',
        `exec ${bin}/jupyter lab --ip 0.0.0.0 --port ${DASK_PORTS.notebook.number} --no-browser`,
      ].join('\n');
  }
}

/**
 * The profile's ssh_user, whom commands run as, joins the dask group (when
 * the image has that user), and git trusts the repositories it did not
 * create (the notebook's belong to dask).
 */
function loginUserActions({ bootstrap }: UserDataInput): string[] {
  const user = bootstrap.loginUser;
  if (user === undefined) return [];
  if (!LOGIN_USER.test(user)) {
    throw new ValidationError(
      `ssh_user: "${user}" is not a user name (lower-case letters, digits, _ and -, at most 32)`,
      { field: 'ssh_user' },
    );
  }
  return [
    [
      `if id -u ${shellQuote(user)} >/dev/null 2>&1; then`,
      `  usermod -a -G dask -- ${shellQuote(user)}`,
      "  git config --system --add safe.directory '*'",
      'fi',
    ].join('\n'),
  ];
}

/** A login name as useradd accepts it. */
const LOGIN_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

function count(value: number, minimum: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new Error(`a Dask worker's ${name} must be an integer >= ${minimum}, not ${value}`);
  }
  return value;
}

/** The notebook's extra files (secret reader, token pre-start) and first-boot action (its workdir). */
function notebookParts({ bootstrap }: UserDataInput, at: Pathing): { files: string[]; actions: string[] } {
  const tokenParameter = bootstrap.secrets?.jupyterToken;
  if (tokenParameter === undefined) throw new Error('a notebook needs the name of its Jupyter token secret');
  const python = `${at(IMAGE_PYTHON)} ${at(FETCH_SECRET)}`;
  const files = [
    writeFile(at(FETCH_SECRET), FETCH_SECRET_PY, '0644'),
    writeFile(
      at(`${BIN}/notebook-token.sh`),
      [
        '#!/bin/bash',
        'set -euo pipefail',
        ...sourceConf(at),
        'umask 077',
        `exec ${python} "$BILBO_REGION" "$BILBO_JUPYTER_TOKEN_PARAMETER" ${at(TOKEN_ENV)} JUPYTER_TOKEN`,
      ].join('\n'),
      '0700',
    ),
  ];
  const workdir = `"${at('')}$BILBO_WORKDIR"`;
  const actions = [
    // Group-writable and setgid: the login user commands run as is in the dask group.
    [...sourceConf(at), `install -d -m 2775 -- ${workdir}`, `chown dask:dask -- ${workdir}`].join('\n'),
  ];
  return { files, actions };
}
