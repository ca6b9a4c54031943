/**
 * A remote script's secretEnv over SSM: the SendCommand names each secret
 * and never holds its value; the wrapper, run for real by sh (as the agent
 * runs it), reads the values as root with the image's Python (here
 * python3 with a stand-in boto3 that answers from a file and records each
 * call) and hands them to the script's environment exactly.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SsmRemoteCommands } from '../../../../lambdas/adapters/ssm/remote-commands.ts';
import type { ServiceAccount } from '../../../../lambdas/adapters/ssm/remote-script.ts';
import { ValidationError } from '../../../../lambdas/domain/errors.ts';
import type { RemoteScript } from '../../../../lambdas/domain/ports.ts';
import { mockSsm, type SsmMock } from '../../../support/ssm-mock.ts';

const NAME = '/bilbo/clusters/c-0123456789abcdef/git-password';
const VALUE = `pa'ss "w$(touch pwned)rd" \`id\` \\ %s $HOME ${'$'}{x} {{ssm:/other}} é`;

const FAKE_BOTO3 = String.raw`import json, os

class _Missing(Exception):
    response = {"Error": {"Code": "ParameterNotFound"}}

class _Ssm:
    def __init__(self, region):
        self.region = region
    def get_parameter(self, Name, WithDecryption=False):
        with open(os.environ["FAKE_SSM_LOG"], "a") as log:
            log.write(json.dumps({"region": self.region, "name": Name, "decrypt": WithDecryption}) + "\n")
        with open(os.environ["FAKE_SSM_VALUES"]) as values:
            found = json.load(values)
        if Name not in found:
            raise _Missing(Name)
        return {"Parameter": {"Value": found[Name]}}

def client(service, region_name=None):
    assert service == "ssm"
    return _Ssm(region_name)
`;

let root: string;
let python: string;
let ssm: SsmMock;
let runs = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bilbo-ssm-secrets-'));
  const bin = join(root, 'bin');
  const modules = join(root, 'python');
  mkdirSync(bin);
  mkdirSync(modules);
  writeFileSync(join(modules, 'boto3.py'), FAKE_BOTO3);
  python = join(root, 'image-python');
  writeFileSync(python, `#!/bin/sh\nPYTHONPATH=${modules} exec /usr/bin/python3 "$@"\n`);
  chmodSync(python, 0o755);
  // runuser -u USER -- COMMAND…: runs COMMAND as the current user.
  writeFileSync(
    join(bin, 'runuser'),
    '#!/bin/sh\n[ "$1" = -u ] && [ "$3" = -- ] || exit 99\nshift 3\nexec "$@"\n',
  );
  chmodSync(join(bin, 'runuser'), 0o755);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeEach(() => {
  ssm = mockSsm();
});
afterEach(() => ssm.restore());

function runner(account: Partial<ServiceAccount> = {}): SsmRemoteCommands {
  const serviceAccount = { user: userInfo().username, home: join(root, 'home'), python, ...account };
  return new SsmRemoteCommands({ client: ssm.client, serviceAccount });
}

/** Sends the script, then runs what SSM was given with sh, against these stored secrets. */
async function sendAndRun(script: RemoteScript, stored: Record<string, string>) {
  const at = join(root, `run-${runs++}`);
  const home = join(at, 'home');
  mkdirSync(home, { recursive: true });
  mkdirSync(join(at, 'tmp'));
  writeFileSync(join(at, 'values.json'), JSON.stringify(stored));
  writeFileSync(join(at, 'ssm.log'), '');
  await runner({ home }).send(
    'cmd-0123456789abcdef',
    [{ id: 'i-0aaaaaaaaaaaaaaa1', role: 'notebook' }],
    script,
  );
  const input = ssm.inputsOf('SendCommand').at(-1)!;
  const file = join(at, '_script.sh');
  writeFileSync(file, input.Parameters!.commands!.join('\n'));
  const result = spawnSync('sh', [file], {
    cwd: at,
    env: {
      PATH: `${join(root, 'bin')}:${process.env.PATH}`,
      TMPDIR: join(at, 'tmp'),
      FAKE_SSM_VALUES: join(at, 'values.json'),
      FAKE_SSM_LOG: join(at, 'ssm.log'),
    },
    encoding: 'utf8',
  });
  const ssmCalls = readFileSync(join(at, 'ssm.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
  return { ...result, home, at, ssmCalls, sent: JSON.stringify(input) };
}

const secretScript = (script: string): RemoteScript => ({
  script,
  env: { PLAIN: 'plain' },
  secretEnv: { GIT_PASSWORD: NAME },
  timeoutSeconds: 60,
  comment: 'bilbo setup on analytics',
});

describe('a remote script with secrets, over SSM', () => {
  it('names the secret in the SendCommand and never holds its value', async () => {
    const run = await sendAndRun(secretScript('true'), { [NAME]: VALUE });

    expect(run.sent).toContain(`'GIT_PASSWORD=${NAME}'`);
    expect(run.sent).not.toContain("pa'ss");
    expect(run.sent).not.toContain('touch pwned');
  });

  it("reads the secret as root, in the SSM client's region, into the script's environment exactly", async () => {
    const script = 'printf "%s" "$GIT_PASSWORD" > secret.out; printf "%s" "$PLAIN" > plain.out';

    const run = await sendAndRun(secretScript(script), { [NAME]: VALUE });

    expect(run.status).toBe(0);
    expect(readFileSync(join(run.home, 'secret.out'), 'utf8')).toBe(VALUE);
    expect(readFileSync(join(run.home, 'plain.out'), 'utf8')).toBe('plain');
    expect(run.ssmCalls).toEqual([{ region: 'eu-west-1', name: NAME, decrypt: true }]);
    expect(existsSync(join(run.home, 'pwned'))).toBe(false);
    expect(run.stdout + run.stderr).not.toContain(VALUE);
  });

  it('fails before the script runs when the secret cannot be read, naming it and not its value', async () => {
    const run = await sendAndRun(secretScript('touch ran.out'), {});

    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `bilbo: could not read the secret ${NAME} (for GIT_PASSWORD): ParameterNotFound\n`,
    );
    expect(existsSync(join(run.home, 'ran.out'))).toBe(false);
  });

  it.each(['a b', 'x{{ssm:y}}', "it's", ''])(
    'refuses the secret name %j, before calling SSM',
    async (name) => {
      await expect(
        runner().send('cmd-0123456789abcdef', [{ id: 'i-0aaaaaaaaaaaaaaa1', role: 'notebook' }], {
          ...secretScript('true'),
          secretEnv: { GIT_PASSWORD: name },
        }),
      ).rejects.toThrow(ValidationError);
      expect(ssm.callsOf('SendCommand')).toBe(0);
    },
  );

  it('refuses, as a programming error, secrets on instances with no Python to read them', async () => {
    const { python: _python, ...noPython } = { user: 'svc', home: '/home/svc', python };
    const bare = new SsmRemoteCommands({ client: ssm.client, serviceAccount: noPython });
    await expect(
      bare.send(
        'cmd-0123456789abcdef',
        [{ id: 'i-0aaaaaaaaaaaaaaa1', role: 'notebook' }],
        secretScript('true'),
      ),
    ).rejects.toThrow(/no Python to read secrets/);
  });
});
