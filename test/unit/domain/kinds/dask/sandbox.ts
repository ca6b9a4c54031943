/**
 * Runs a rendered user-data script for real, as root, with every path under
 * a temporary root (renderUserData's `root` option) and fakes for what a
 * test machine lacks: `runuser`, `chown`, `systemctl`, `git`, the image's
 * `dask` and `jupyter`, and boto3's SSM client. Each fake records its calls
 * (argv, working directory, a few environment variables).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Call {
  argv: string[];
  cwd: string;
  /** HOME, GIT_TERMINAL_PROMPT and DASK_SCHEDULER_ADDRESS ('' when unset). */
  env: Record<string, string>;
  /** git only: the credential store's content when git ran, null when it did not exist. */
  credentials?: string | null;
}

export interface SsmCall {
  region: string;
  name: string;
  decrypt: boolean;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Appends one NUL-separated record per call: cwd, HOME, GIT_TERMINAL_PROMPT, DASK_SCHEDULER_ADDRESS, credentials, argc, argv. */
const RECORDER = [
  '#!/bin/bash',
  'name=$1',
  'shift',
  "credentials=$'\\x01none'",
  'for arg in "$@"; do',
  '  case $arg in',
  "    'credential.helper=store --file='*)",
  `      file=\${arg#credential.helper=store --file=}`,
  `      if [ -e "$file" ]; then credentials=$(cat -- "$file"; printf x); credentials=\${credentials%x}; fi`,
  '      ;;',
  '  esac',
  'done',
  `printf '%s\\0' "$PWD" "\${HOME-}" "\${GIT_TERMINAL_PROMPT-}" "\${DASK_SCHEDULER_ADDRESS-}" "$credentials" "$#" "$@" >>"$BILBO_TEST_LOG/$name.calls"`,
  'if [ "$name" = runuser ]; then',
  '  while [ "$1" != -- ]; do shift; done',
  '  shift',
  '  exec "$@"',
  'fi',
  '',
].join('\n');

const FAKE_BOTO3 = String.raw`import json, os

class _Ssm:
    def __init__(self, region):
        self.region = region

    def get_parameter(self, Name, WithDecryption=False):
        with open(os.path.join(os.environ["BILBO_TEST_LOG"], "ssm.jsonl"), "a") as log:
            log.write(json.dumps({"region": self.region, "name": Name, "decrypt": WithDecryption}) + "\n")
        with open(os.environ["BILBO_FAKE_SSM"]) as values:
            return {"Parameter": {"Name": Name, "Type": "SecureString", "Value": json.load(values)[Name]}}

def client(service, region_name=None):
    assert service == "ssm", service
    return _Ssm(region_name)
`;

export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'bilbo-user-data-'));
  /** What renderUserData's `root` option gets. */
  readonly root = join(this.dir, 'root');
  /** Hostile values try to create this file. */
  readonly pwned = join(this.dir, 'pwned');
  private readonly log = join(this.dir, 'log');
  private readonly fakes = join(this.dir, 'fakes');
  private readonly python = join(this.dir, 'python');
  private readonly ssmValues = join(this.dir, 'ssm.json');

  constructor(ssm: Record<string, string> = {}) {
    const venv = join(this.root, 'opt/bilbo/venv/bin');
    for (const dir of [this.log, this.fakes, this.python, venv, join(this.root, 'home/dask')]) {
      mkdirSync(dir, { recursive: true });
    }
    const recorder = join(this.dir, 'recorder.sh');
    writeExecutable(recorder, RECORDER);
    for (const name of ['runuser', 'chown', 'systemctl', 'git']) {
      writeExecutable(join(this.fakes, name), `#!/bin/bash\nexec ${recorder} ${name} "$@"\n`);
    }
    for (const name of ['dask', 'jupyter']) {
      writeExecutable(join(venv, name), `#!/bin/bash\nexec ${recorder} ${name} "$@"\n`);
    }
    writeFileSync(join(this.python, 'boto3.py'), FAKE_BOTO3);
    writeExecutable(join(venv, 'python'), `#!/bin/bash\nPYTHONPATH=${this.python} exec python3 "$@"\n`);
    this.setSsm(ssm);
  }

  /** The SecureStrings the fake SSM answers, by name; another name raises ParameterNotFound-like KeyError. */
  setSsm(values: Record<string, string>): void {
    writeFileSync(this.ssmValues, JSON.stringify(values));
  }

  /** Runs a script with bash, the fakes first on PATH. */
  run(script: string, args: readonly string[] = []): Run {
    const file = join(this.dir, `script-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(file, script);
    return this.bash([file, ...args]);
  }

  /** Runs bash with these arguments in the sandbox's environment. */
  bash(args: readonly string[]): Run {
    const result = spawnSync('bash', args, {
      encoding: 'utf8',
      env: {
        PATH: `${this.fakes}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        LANG: 'C',
        BILBO_TEST_LOG: this.log,
        BILBO_FAKE_SSM: this.ssmValues,
      },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** The values of these variables after bash sources a file, each exactly (NUL-separated). */
  sourced(file: string, expressions: readonly string[]): string[] {
    const words = expressions.map((expression) => `"${expression}"`).join(' ');
    const run = this.bash(['-c', `set -eu; source "$1"; printf '%s\\0' ${words}`, 'sourced', file]);
    if (run.status !== 0) throw new Error(`sourcing ${file} failed: ${run.stderr}`);
    return run.stdout.split('\0').slice(0, -1);
  }

  calls(name: string): Call[] {
    const file = join(this.log, `${name}.calls`);
    if (!existsSync(file)) return [];
    const fields = readFileSync(file, 'utf8').split('\0');
    const calls: Call[] = [];
    for (let at = 0; at < fields.length - 1; ) {
      const [cwd = '', home = '', prompt = '', scheduler = '', credentials = '', argc = '0'] = fields.slice(
        at,
        at + 6,
      );
      const argv = fields.slice(at + 6, at + 6 + Number(argc));
      at += 6 + argv.length;
      calls.push({
        argv,
        cwd,
        env: { HOME: home, GIT_TERMINAL_PROMPT: prompt, DASK_SCHEDULER_ADDRESS: scheduler },
        ...(name === 'git' ? { credentials: credentials === '\x01none' ? null : credentials } : {}),
      });
    }
    return calls;
  }

  ssmCalls(): SsmCall[] {
    return jsonLines<SsmCall>(join(this.log, 'ssm.jsonl'));
  }

  /** A path on the sandboxed machine. */
  path(path: string): string {
    return `${this.root}${path}`;
  }

  read(path: string): string {
    return readFileSync(this.path(path), 'utf8');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

function jsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Runs shellcheck on a script; fails, never skips, when it is not installed. */
export function shellcheck(script: string): Run {
  const result = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: script, encoding: 'utf8' });
  if (result.error)
    throw new Error('install shellcheck (apt-get install shellcheck)', { cause: result.error });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `bash -n`: the script parses. */
export function bashSyntax(script: string): Run {
  const result = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `systemd-analyze verify`: systemd parses the unit and finds its programs; fails, never skips, when missing. */
export function systemdVerify(unit: string): Run {
  const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw new Error('install systemd (apt-get install systemd)', { cause: result.error });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
