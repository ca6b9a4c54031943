/**
 * The script SsmRemoteCommands sends, taken from the recorded SendCommand
 * and run for real, by sh (dash, as the SSM agent runs it) and by bash, in
 * a temporary folder. A stand-in `runuser` first on PATH runs its command
 * as the current user; the service account is the current user with a
 * home in the temporary folder.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SsmRemoteCommands } from '../../../../lambdas/adapters/ssm/remote-commands.ts';
import type { ServiceAccount } from '../../../../lambdas/adapters/ssm/remote-script.ts';
import { ValidationError } from '../../../../lambdas/domain/errors.ts';
import type { RemoteScript } from '../../../../lambdas/domain/ports.ts';
import { mockSsm, type SsmMock } from '../../../support/ssm-mock.ts';

const HOSTILE = `'; reboot; ' $(touch pwned) \`touch pwned-too\` "double" \\ back\nsecond line {{ssm:/bilbo/secret}} ${'$'}{HOME} ünïcødé 😀 BILBO_B64`;
const HEREDOC_BODY = `'; reboot; ' $(touch pwned) \`touch pwned-too\` \${HOME}\nBILBO_EOF\nEOF`;
/** Every byte value, NUL and invalid UTF-8 included. */
const BINARY = Uint8Array.from({ length: 256 }, (_, i) => i);
const NOTES = 'BILBO_B64\nBILBO_EOF\n$(touch pwned)\n';

const USER_SCRIPT = [
  'printf "%s" "$HOSTILE" > env.out',
  'printf "%s" "$HOME" > home.out',
  'printf "%s" "$PWD" > pwd.out',
  'printf "%s" "$(printenv ROOT_ONLY || echo unset)" > root-env.out',
  'printf "%s" "$0" > zero.out',
  "cat > heredoc.out <<'BILBO_B64'",
  HEREDOC_BODY,
  'BILBO_B64',
  '# nothing of the wrapper leaks in: no set -u, no set -e',
  'echo "[$NOT_SET_ANYWHERE]" > unset.out',
  'false',
  "printf 'ünïcødé ✓ 😀\\n'",
  'echo "to stderr" >&2',
  'exit 7',
].join('\n');

let root: string;
let fakeBin: string;
let fakeChownBin: string;
let account: ServiceAccount;
const me = userInfo().username;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bilbo-ssm-script-'));
  fakeBin = join(root, 'bin');
  fakeChownBin = join(root, 'chown-bin');
  mkdirSync(fakeBin);
  mkdirSync(fakeChownBin);
  const stub = (path: string, body: string) => {
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  };
  // runuser -u USER -- COMMAND…: records USER, runs COMMAND as the current user.
  stub(
    join(fakeBin, 'runuser'),
    '[ "$1" = -u ] && [ "$3" = -- ] || exit 99\necho "$2" >>"$FAKE_LOG"\nshift 3\nexec "$@"',
  );
  stub(join(fakeChownBin, 'chown'), 'echo "chown $*" >>"$FAKE_LOG"');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** What the stand-ins recorded: runuser's users, chown's arguments. */
  log: string[];
  home: string;
  tmp: string;
  /** The text SSM was given. */
  commands: string;
}

let ssm: SsmMock;
beforeEach(() => {
  ssm = mockSsm();
});
afterEach(() => ssm.restore());

let runs = 0;

/** Sends the script through the adapter, and runs what SSM received, as the agent would. */
async function sendAndRun(
  script: RemoteScript,
  shell: 'sh' | 'bash',
  options: { fakeChown?: boolean } = {},
): Promise<Run> {
  const at = join(root, `run-${runs++}`);
  const home = join(at, 'home');
  const tmp = join(at, 'tmp');
  const agentDir = join(at, 'agent');
  for (const dir of [home, tmp, agentDir]) mkdirSync(dir, { recursive: true });
  account = { user: me, home };
  const runner = new SsmRemoteCommands({ client: ssm.client, serviceAccount: account });

  await runner.send('cmd-0123456789abcdef', [{ id: 'i-0aaaaaaaaaaaaaaa1', role: 'worker' }], script);

  const commands = ssm.inputsOf('SendCommand').at(-1)!.Parameters!.commands!.join('\n');
  const file = join(agentDir, '_script.sh');
  writeFileSync(file, commands);
  const logFile = join(at, 'fake.log');
  writeFileSync(logFile, '');
  const path = [options.fakeChown ? fakeChownBin : '', fakeBin, process.env.PATH].filter(Boolean).join(':');
  const result = spawnSync(shell, [file], {
    cwd: agentDir,
    env: { PATH: path, TMPDIR: tmp, HOME: '/root', ROOT_ONLY: 'leaked', FAKE_LOG: logFile },
    encoding: 'utf8',
  });
  const log = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, log, home, tmp, commands };
}

const hostileScript = (): RemoteScript => ({
  script: USER_SCRIPT,
  workdir: 'projects/a b',
  env: { HOSTILE, EMPTY: '' },
  files: { 'data.bin': BINARY, 'notes.txt': new TextEncoder().encode(NOTES) },
  timeoutSeconds: 60,
  comment: 'bilbo rcmd on analytics',
});

describe.each(['sh', 'bash'] as const)('the script SSM runs, under %s', (shell) => {
  it('hands the user’s script, environment and files over literally, in the workdir under the home', async () => {
    const run = await sendAndRun(hostileScript(), shell);
    const workdir = join(run.home, 'projects', 'a b');
    const read = (name: string) => readFileSync(join(workdir, name), 'utf8');

    expect(run.stderr).toBe('to stderr\n');
    expect(run.stdout).toBe('ünïcødé ✓ 😀\n');
    expect(read('env.out')).toBe(HOSTILE);
    expect(read('heredoc.out')).toBe(`${HEREDOC_BODY}\n`);
    expect(new Uint8Array(readFileSync(join(workdir, 'data.bin')))).toEqual(BINARY);
    expect(read('notes.txt')).toBe(NOTES);
    expect(read('pwd.out')).toBe(workdir);
    expect(read('home.out')).toBe(run.home);
    expect(read('zero.out')).toBe('bash');
    expect(read('unset.out')).toBe('[]\n');
    expect(read('root-env.out')).toBe('unset');
  });

  it('exits with the script’s exit code, and expands nothing it carries', async () => {
    const run = await sendAndRun(hostileScript(), shell);

    expect(run.status).toBe(7);
    const everywhere = [run.home, join(run.home, 'projects', 'a b'), join(run.home, '..', 'agent')];
    for (const dir of everywhere)
      expect(readdirSync(dir).filter((name) => name.startsWith('pwned'))).toEqual([]);
  });

  it('runs as the service user, which also makes the workdir, and leaves no staging folder behind', async () => {
    const run = await sendAndRun(hostileScript(), shell);

    expect(run.log).toEqual([me, me]);
    expect(readdirSync(run.tmp)).toEqual([]);
  });

  it('runs in the service user’s home when no workdir is given', async () => {
    const run = await sendAndRun({ script: 'pwd', timeoutSeconds: 5, comment: '' }, shell);

    expect(run.stdout).toBe(`${run.home}\n`);
    expect(run.status).toBe(0);
  });

  it('turns the exit codes SSM reserves (194 reboots the instance) into 1, saying why', async () => {
    const run = await sendAndRun({ script: 'exit 194', timeoutSeconds: 5, comment: '' }, shell);

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('exited with 194, which SSM reserves');
  });

  it('runs as another user with that user’s home, handing the staged files to it', async () => {
    const nobody = spawnSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' });
    if (nobody.status !== 0) return;
    const nobodyHome = nobody.stdout.trim().split(':')[5];

    const run = await sendAndRun(
      { script: 'printf "%s" "$HOME"', user: 'nobody', timeoutSeconds: 5, comment: '' },
      shell,
      {
        fakeChown: true,
      },
    );

    expect(run.stdout).toBe(nobodyHome);
    expect(run.log).toEqual([expect.stringMatching(/^chown -R -- nobody \/.*bilbo-command\./), me, 'nobody']);
  });

  it('fails, saying so, for a user the instance does not have', async () => {
    const run = await sendAndRun(
      { script: 'true', user: 'no-such-user-here', timeoutSeconds: 5, comment: '' },
      shell,
    );

    expect(run.status).toBe(1);
    expect(run.stderr).toBe('bilbo: there is no user no-such-user-here on this instance\n');
    expect(run.log).toEqual([]);
  });
});

describe('the script SSM is given', () => {
  it('holds none of the caller’s text in the clear, and no {{ for SSM to resolve', async () => {
    const run = await sendAndRun(hostileScript(), 'sh');

    expect(run.commands).not.toContain('{{');
    expect(run.commands).not.toContain("'; reboot; '");
    expect(run.commands).not.toContain('HOSTILE');
    expect(existsSync(run.home)).toBe(true);
  });
});

describe('what the script will not do', () => {
  const send = (script: Partial<RemoteScript>) =>
    new SsmRemoteCommands({ client: ssm.client, serviceAccount: { user: 'svc', home: '/home/svc' } }).send(
      'cmd-0123456789abcdef',
      [{ id: 'i-0aaaaaaaaaaaaaaa1', role: 'worker' }],
      { script: 'true', timeoutSeconds: 60, comment: '', ...script },
    );

  it.each(['../elsewhere', 'work/../../etc', '/etc', '~/work', 'a\nb', 'x{{ssm:y}}'])(
    'refuses the workdir %j, before calling SSM',
    async (workdir) => {
      await expect(send({ workdir })).rejects.toThrow(ValidationError);
      expect(ssm.callsOf('SendCommand')).toBe(0);
    },
  );

  it.each(['A-B', '1A', 'A B', ''])('refuses the environment variable name %j', async (name) => {
    await expect(send({ env: { [name]: 'x' } })).rejects.toThrow(ValidationError);
  });

  it.each(['a/b', '..', '.', 'a b', ''])('refuses the file name %j', async (name) => {
    await expect(send({ files: { [name]: new Uint8Array() } })).rejects.toThrow(ValidationError);
  });

  it.each(['Root', 'a;b', 'ubuntu ', '-u'])('refuses the user %j', async (user) => {
    await expect(send({ user })).rejects.toThrow(ValidationError);
  });

  it('refuses a NUL in the script or in a value', async () => {
    await expect(send({ script: 'echo \0' })).rejects.toThrow(ValidationError);
    await expect(send({ env: { A: 'x\0y' } })).rejects.toThrow(ValidationError);
  });
});
