/**
 * The shell script SSM's AWS-RunShellScript runs, as root under /bin/sh, to
 * run one RemoteScript: it stages the user's script, its environment and its
 * files from base64 (gzip inside), drops to the script's user with runuser,
 * and exits with the script's exit code.
 *
 * Everything the caller gave travels as base64, whose alphabet has no quote,
 * `$`, backtick, newline or brace: nothing of it can be expanded by sh, end
 * a heredoc (the delimiter has an underscore, which base64 never writes) or
 * be read by SSM as a `{{ssm:…}}` parameter reference (which SSM would
 * resolve with bilbo's own permissions). The few plain values (user names,
 * the workdir) are validated and single-quoted, and must not contain `{{`.
 *
 * Root never writes into the workdir: a folder the users own may be a
 * symlink to anywhere. Root writes only its own fresh mktemp folder, hands
 * it to the user, and the workdir is made by the service user and filled by
 * the script's user.
 *
 * Secrets (secretEnv) travel by name: root reads each value from SSM with
 * the instance's role, with the image's Python, into a 0600 file of the
 * stage folder that the runner sources. The value is never in SendCommand's
 * parameters (which SSM keeps in its command history), an argument or the
 * output. A secret that cannot be read fails the command before the script runs.
 */
import { gzipSync } from 'node:zlib';
import { shellQuote } from '../../domain/boot/shell.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { RemoteScript } from '../../domain/ports.ts';

export interface ServiceAccount {
  /** The instances' service user: scripts without a `user` run as it, and the workdir is in its home. */
  user: string;
  /** Its home. */
  home: string;
  /** A Python with boto3 on the instances, which reads a script's secretEnv as root. */
  python?: string;
}

/** Where the instances are: the region their secrets are read in. */
export interface ScriptRegion {
  region: string;
}

/** A login name as useradd accepts it. */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FILE_NAME = /^[A-Za-z0-9._-]{1,255}$/;
const HOME = /^(\/[A-Za-z0-9._-]+)+$/;
/** An SSM parameter name's characters (SecretNames names are paths). */
const SECRET_NAME = /^[A-Za-z0-9_./-]{1,2048}$/;
const REGION = /^[a-z]{2}(-[a-z0-9]+){2,3}$/;
const HEREDOC_END = 'BILBO_B64';
/** The exit codes AWS-RunShellScript gives a meaning of its own: 194 reboots the instance, 168/169 stop the document. */
const AGENT_RESERVED_EXIT_CODES = [168, 169, 194];
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Runs as the script's user, with bash, in a clean environment: its own
 * constant text, given the stage folder and the workdir as $1 and $2. The
 * user's script reaches `bash -c` as one word read from its staged file.
 */
const RUNNER = [
  'set -eu',
  'stage=$1',
  'workdir=$2',
  // Group-writable: the login user and the service user share the notebook's files (one group).
  'umask 002',
  'cd -- "$workdir"',
  'for file in "$stage"/files/*; do',
  '  [ -e "$file" ] || continue',
  '  cp -f -- "$file" "./$(basename -- "$file")"',
  'done',
  '# shellcheck source=/dev/null',
  '. "$stage/env"',
  '# shellcheck source=/dev/null',
  '. "$stage/secret-env"',
  'exec bash -c "$(cat -- "$stage/script")" bash',
].join('\n');

/**
 * Run by root as `python read-secrets.py REGION TARGET VARIABLE=NAME…`:
 * writes `export VARIABLE='value'` lines (single-quoted for bash) into a
 * new 0600 TARGET, or exits 1 naming the secret it could not read.
 */
const READ_SECRETS_PY = String.raw`import os, sys

region, target = sys.argv[1:3]
import boto3

ssm = boto3.client("ssm", region_name=region)
lines = []
for pair in sys.argv[3:]:
    variable, name = pair.split("=", 1)
    try:
        value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
        sys.exit("bilbo: could not read the secret %s (for %s): %s" % (name, variable, code))
    lines.append("export %s='%s'\n" % (variable, value.replace("'", "'\\''")))
fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w", encoding="utf-8") as out:
    out.writelines(lines)
`;

/** The validated parts of a RemoteScript that the wrapper names in plain text. */
export interface ScriptPlacement {
  runAs: string;
  workdir: string;
}

/** Where and as whom the script runs; throws ValidationError for a user or workdir bilbo will not use. */
export function placementOf(script: RemoteScript, account: ServiceAccount): ScriptPlacement {
  if (!USER_NAME.test(account.user) || !HOME.test(account.home)) {
    throw new Error(`unusable service account ${account.user} with home ${account.home}`);
  }
  const runAs = script.user ?? account.user;
  if (!USER_NAME.test(runAs)) {
    const rule = 'lower-case letters, digits, _ and -, at most 32';
    throw new ValidationError(`user: "${runAs}" is not a user name (${rule})`, { field: 'user' });
  }
  return { runAs, workdir: workdirOf(script.workdir, account.home) };
}

/** The workdir under the service user's home: relative, never climbing out of it. */
function workdirOf(workdir: string | undefined, home: string): string {
  if (workdir === undefined) return home;
  const refuse = (why: string) => new ValidationError(`workdir: "${workdir}" ${why}`, { field: 'workdir' });
  if (workdir.startsWith('/') || workdir.startsWith('~'))
    throw refuse("must be relative to the service user's home");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(workdir)) throw refuse('must not contain control characters');
  if (workdir.includes('{{'))
    throw refuse('must not contain "{{" (SSM would read it as a parameter reference)');
  const segments = workdir.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw refuse('must not contain ..');
  return segments.length === 0 ? home : `${home}/${segments.join('/')}`;
}

function checkedEnv(env: RemoteScript['env']): string {
  const lines = Object.entries(env ?? {}).map(([name, value]) => {
    if (!ENV_NAME.test(name)) {
      throw new ValidationError(`env: "${name}" is not an environment variable name`, {
        field: `env.${name}`,
      });
    }
    return `export ${name}=${shellQuote(value)}\n`;
  });
  return lines.join('');
}

function checkedFileNames(files: RemoteScript['files']): [string, Uint8Array][] {
  return Object.entries(files ?? {}).map(([name, content]) => {
    if (!FILE_NAME.test(name) || name === '.' || name === '..') {
      throw new ValidationError(
        `files: "${name}" is not a file name (letters, digits, ".", "_" and "-", no folder)`,
        {
          field: 'files',
        },
      );
    }
    return [name, content];
  });
}

/** The lines that read the script's secrets into "$stage/secret-env", as root; none without secrets. */
function secretReader(
  script: RemoteScript,
  account: ServiceAccount,
  where: ScriptRegion | undefined,
): string[] {
  const entries = Object.entries(script.secretEnv ?? {});
  if (entries.length === 0) return [];
  if (!account.python || !HOME.test(account.python)) {
    throw new Error(`the service account ${account.user} has no Python to read secrets with`);
  }
  if (!where || !REGION.test(where.region)) {
    throw new Error(`a command with secrets needs the instances' region, not ${where?.region}`);
  }
  const pairs = entries.map(([variable, name]) => {
    if (!ENV_NAME.test(variable)) {
      throw new ValidationError(`secretEnv: "${variable}" is not an environment variable name`, {
        field: `secretEnv.${variable}`,
      });
    }
    if (!SECRET_NAME.test(name) || name.includes('{{')) {
      throw new ValidationError(`secretEnv.${variable}: "${name}" is not a secret's name`, {
        field: `secretEnv.${variable}`,
      });
    }
    return shellQuote(`${variable}=${name}`);
  });
  return [
    stagedFile('"$stage/read-secrets.py"', READ_SECRETS_PY),
    '# A secret that cannot be read ends the command here (set -e), before the script runs.',
    `${shellQuote(account.python)} "$stage/read-secrets.py" ${shellQuote(where.region)} "$stage/secret-env" ${pairs.join(' ')}`,
  ];
}

/** `base64 -d | gzip -dc` of a heredoc into `target`; the heredoc holds base64 only. */
function stagedFile(target: string, content: Uint8Array | string): string {
  const encoded = gzipSync(content).toString('base64');
  const lines = encoded.match(/.{1,76}/g) ?? [];
  return [`base64 -d <<'${HEREDOC_END}' | gzip -dc >${target}`, ...lines, HEREDOC_END].join('\n');
}

/**
 * The wrapper's text (see the module comment). Throws ValidationError for
 * a user, workdir, variable or file name it will not use, or a NUL in the
 * script or a value.
 */
export function renderRemoteScript(
  script: RemoteScript,
  account: ServiceAccount,
  where?: ScriptRegion,
): string {
  const { runAs, workdir } = placementOf(script, account);
  if (script.script.includes('\0')) {
    throw new ValidationError('script: contains a NUL character, which bash cannot hold', {
      field: 'script',
    });
  }
  const env = checkedEnv(script.env);
  const files = checkedFileNames(script.files);
  const reserved = AGENT_RESERVED_EXIT_CODES.join('|');
  const text = [
    '#!/bin/sh',
    '# bilbo: one remote command (lambdas/adapters/ssm/remote-script.ts). Run by SSM as root.',
    'set -eu',
    'umask 077',
    `run_as=${shellQuote(runAs)}`,
    `service_user=${shellQuote(account.user)}`,
    `service_home=${shellQuote(account.home)}`,
    `workdir=${shellQuote(workdir)}`,
    'stage=$(mktemp -d -t bilbo-command.XXXXXXXXXX)',
    `trap 'rm -rf -- "$stage"' EXIT`,
    'mkdir -- "$stage/files"',
    stagedFile('"$stage/script"', script.script),
    stagedFile('"$stage/env"', env),
    ': >"$stage/secret-env"',
    ...secretReader(script, account, where),
    ...files.map(([name, content]) => stagedFile(`"$stage/files/"${shellQuote(name)}`, content)),
    'if [ "$run_as" = "$service_user" ]; then',
    '  run_home=$service_home',
    'else',
    '  run_home=$(getent passwd "$run_as" | cut -d: -f6)',
    'fi',
    'if [ -z "$run_home" ]; then',
    `  printf 'bilbo: there is no user %s on this instance\\n' "$run_as" >&2`,
    '  exit 1',
    'fi',
    'chown -R -- "$run_as" "$stage"',
    'runuser -u "$service_user" -- mkdir -p -- "$workdir"',
    'set +e',
    'runuser -u "$run_as" -- env -i HOME="$run_home" USER="$run_as" LOGNAME="$run_as" SHELL=/bin/bash \\',
    `  PATH=${PATH} LANG=C.UTF-8 bash -c ${shellQuote(RUNNER)} bilbo-command "$stage" "$workdir"`,
    'status=$?',
    'set -e',
    `case $status in ${reserved})`,
    `  printf 'bilbo: the script exited with %s, which SSM reserves (194 reboots the instance); reported as 1\\n' "$status" >&2`,
    '  status=1 ;;',
    'esac',
    'exit "$status"',
    '',
  ].join('\n');
  // Only the validated plain values could bring one in; checked once more on the whole text.
  if (text.includes('{{'))
    throw new ValidationError('the command would hold "{{", which SSM resolves as a parameter');
  return text;
}
