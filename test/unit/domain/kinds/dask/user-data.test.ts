import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../../lambdas/domain/errors.ts';
import { DASK_PORTS } from '../../../../../lambdas/domain/kinds/dask/ports.ts';
import {
  DEFAULT_WORKDIR,
  notebookWorkdir,
  renderUserData,
  USER_DATA_MAX_BYTES,
  type UserDataInput,
} from '../../../../../lambdas/domain/kinds/dask/user-data.ts';
import { bashSyntax, Sandbox, shellcheck, systemdVerify } from './sandbox.ts';
import {
  CLUSTER_ID,
  DASK,
  hostileInput,
  input,
  SCHEDULER,
  TOKEN,
  withWorkdir,
} from './user-data-fixtures.ts';

describe('renderUserData', () => {
  describe.each(['scheduler', 'worker', 'notebook'] as const)('for a %s', (role) => {
    it('is a bash script that stops at the first error', () => {
      const script = renderUserData(input(role));
      expect(script.startsWith('#!/bin/bash\n')).toBe(true);
      expect(script).toContain('\nset -euo pipefail\n');
    });

    it('writes one systemd unit for the role, running as dask and restarted on failure, and starts it', () => {
      const script = renderUserData(input(role));
      const unit = `/etc/systemd/system/bilbo-${role}.service`;
      expect(script.match(/^cat >\/etc\/systemd\/system\//gm)).toHaveLength(1);
      expect(script).toContain(`cat >${unit} <<'BILBO_EOF'\n[Unit]\n`);
      expect(script).toMatch(/\nUser=dask\n/);
      expect(script).toMatch(/\nRestart=on-failure\n/);
      expect(script).toContain(`\nExecStart=/opt/bilbo/bin/start-${role}.sh\n`);
      expect(
        script.trimEnd().endsWith(`systemctl daemon-reload && systemctl enable --now bilbo-${role}.service`),
      ).toBe(true);
    });

    it("runs none of the profile's init commands: the create runs them as remote commands once the services answer", () => {
      const script = renderUserData(input(role));
      expect(script).not.toContain('init');
    });

    it.each([
      ['plain', {}],
      ['with a notebook workdir', withWorkdir],
    ])('passes bash -n and shellcheck (%s)', (_case, extra) => {
      const script = renderUserData(input(role, role === 'notebook' ? extra : {}));
      expect(bashSyntax(script).stderr).toBe('');
      expect(shellcheck(script)).toMatchObject({ status: 0, stdout: '' });
    });

    it('passes bash -n and shellcheck with hostile values everywhere', () => {
      const sandbox = new Sandbox();
      const script = renderUserData(hostileInput(sandbox, role));
      sandbox.remove();
      expect(bashSyntax(script).stderr).toBe('');
      expect(shellcheck(script)).toMatchObject({ status: 0, stdout: '' });
    });
  });

  it.each(['scheduler', 'worker', 'notebook'] as const)(
    "puts the profile's ssh_user in the dask group, when the image has it, and git trusts dask's repositories (%s)",
    (role) => {
      const script = renderUserData(input(role, { loginUser: 'ubuntu' }));

      expect(script).toContain(
        "if id -u 'ubuntu' >/dev/null 2>&1; then\n  usermod -a -G dask -- 'ubuntu'\n  git config --system --add safe.directory '*'\nfi\n",
      );
      expect(shellcheck(script)).toMatchObject({ status: 0, stdout: '' });
      expect(renderUserData(input(role))).not.toContain('usermod');
    },
  );

  it('makes the notebook workdir group-writable and setgid, and Jupyter write group-writable files', () => {
    const script = renderUserData(input('notebook', { loginUser: 'ubuntu' }));

    expect(script).toContain('install -d -m 2775 -- "$BILBO_WORKDIR"');
    expect(script).toMatch(/umask 0002\nexec \/opt\/bilbo\/venv\/bin\/jupyter lab/);
  });

  it('refuses an ssh_user that is not a user name', () => {
    expect(() => renderUserData(input('worker', { loginUser: "x'; reboot" }))).toThrow(/^ssh_user: /);
  });

  it('starts the scheduler on port 8786 with the dashboard on 8787', () => {
    expect(renderUserData(input('scheduler'))).toContain(
      '\nexec /opt/bilbo/venv/bin/dask scheduler --port 8786 --dashboard-address :8787\n',
    );
    expect(Object.values(DASK_PORTS).map((port) => port.number)).toEqual([8786, 8787, 8888]);
  });

  it('starts workers against the scheduler with the planned processes, threads and memory', () => {
    const script = renderUserData(input('worker'));
    expect(script).toContain(`  BILBO_SCHEDULER_ADDRESS '${SCHEDULER}' \\\n`);
    expect(script).toContain(
      '\nexec /opt/bilbo/venv/bin/dask worker "$BILBO_SCHEDULER_ADDRESS" --nworkers 3 --nthreads 2 --memory-limit 4294967296\n',
    );
  });

  it('refuses, as a programming error, a worker without a scheduler address or sizing', () => {
    const { schedulerAddress: _a, ...noAddress } = input('worker').bootstrap;
    const { dask: _d, ...noSizing } = input('worker').bootstrap;
    expect(() => renderUserData({ ...input('worker'), bootstrap: noAddress })).toThrow(/scheduler address/);
    expect(() => renderUserData({ ...input('worker'), bootstrap: noSizing })).toThrow(/sizing/);
    expect(() => renderUserData(input('worker', { dask: { ...DASK, nthreads: 1.5 } }))).toThrow(/nthreads/);
  });

  it('refuses, as a programming error, a notebook without its token secret', () => {
    expect(() => renderUserData(input('notebook', { secrets: {} }))).toThrow(/Jupyter token/);
  });

  it("gives the notebook the scheduler's address as DASK_SCHEDULER_ADDRESS, and none without Dask", () => {
    const { schedulerAddress: _a, ...noAddress } = input('notebook').bootstrap;
    const export_ = 'export DASK_SCHEDULER_ADDRESS="$BILBO_SCHEDULER_ADDRESS"';

    expect(renderUserData(input('notebook'))).toContain(`\n${export_}\n`);
    expect(renderUserData({ ...input('notebook'), bootstrap: noAddress })).not.toContain(
      'DASK_SCHEDULER_ADDRESS',
    );
  });

  it('runs Jupyter Lab on 8888 with the token from SSM loaded by systemd as root, never in user-data', () => {
    const script = renderUserData(input('notebook'));
    expect(script).toContain(
      '\nexec /opt/bilbo/venv/bin/jupyter lab --ip 0.0.0.0 --port 8888 --no-browser\n',
    );
    expect(script).toContain('\nEnvironmentFile=-/etc/bilbo/notebook.env\n');
    expect(script).toContain('\nExecStartPre=+/opt/bilbo/bin/notebook-token.sh\n');
    expect(script).toContain(`  BILBO_JUPYTER_TOKEN_PARAMETER '${TOKEN}' \\\n`);
    expect(script).toContain('ssm.get_parameter(Name=name, WithDecryption=True)');
  });

  it('clones nothing and sets no git identity: the clones are the create’s setup commands', () => {
    const script = renderUserData(input('notebook', withWorkdir));
    expect(script).not.toContain('git ');
    expect(script).not.toContain('BILBO_GIT_');
    expect(script).not.toContain('credential');
  });

  it('refuses a value bash cannot hold (NUL) with a ValidationError', () => {
    expect(() => renderUserData({ ...input('worker'), clusterName: 'a\0b' })).toThrow(ValidationError);
  });

  it('refuses a script over EC2’s 16 KB user-data limit with a ValidationError', () => {
    expect(() => renderUserData(input('notebook', { notebook: { workdir: 'x'.repeat(20_000) } }))).toThrow(
      ValidationError,
    );
    expect(USER_DATA_MAX_BYTES).toBe(16_384);
  });
});

describe('notebookWorkdir', () => {
  it.each([
    [undefined, DEFAULT_WORKDIR],
    ['', DEFAULT_WORKDIR],
    ['projects', '/home/dask/projects'],
    ['/home/ubuntu/work', '/home/dask/work'],
    ['/home/ubuntu', '/home/dask'],
    ['~', '/home/dask'],
    ['~/notebooks', '/home/dask/notebooks'],
  ])('puts %j at %s', (workdir, expected) => {
    expect(notebookWorkdir(workdir)).toBe(expected);
  });

  it.each(['/etc/bilbo', '/data/work', '/home/ubuntu/../../etc', '~/../../etc', 'a/../../etc', '~root/x'])(
    'refuses %j, which the boot script would give to the dask user as root',
    (workdir) => {
      expect(() => notebookWorkdir(workdir)).toThrow(
        "notebook.workdir: must be a folder under the dask user's home",
      );
    },
  );
});

describe('the rendered script, run in a sandbox', () => {
  let sandbox: Sandbox;
  const tokenValue = 'tok"en $HOME `id` \\ \' %h\nsecond line';

  beforeEach(() => {
    sandbox = new Sandbox({ [TOKEN]: tokenValue });
  });

  afterEach(() => {
    sandbox.remove();
  });

  function runUserData(value: UserDataInput) {
    return sandbox.run(renderUserData(value, { root: sandbox.root }));
  }

  it('runs with hostile values and lets nothing out', () => {
    const run = runUserData(hostileInput(sandbox, 'worker'));

    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(() => statSync(sandbox.pwned)).toThrow(/ENOENT/);
  });

  it('keeps every profile value exact in the conf file the services read', () => {
    const value = hostileInput(sandbox, 'notebook');

    expect(runUserData(value).status).toBe(0);

    const notebook = value.bootstrap.notebook!;
    expect(
      sandbox.sourced(sandbox.path('/etc/bilbo/cluster.conf'), [
        '$BILBO_CLUSTER_ID',
        '$BILBO_CLUSTER_NAME',
        '$BILBO_SCHEDULER_ADDRESS',
        '$BILBO_WORKDIR',
        '$BILBO_JUPYTER_TOKEN_PARAMETER',
      ]),
    ).toEqual([
      CLUSTER_ID,
      value.clusterName,
      value.bootstrap.schedulerAddress,
      notebookWorkdir(notebook.workdir),
      TOKEN,
    ]);
    expect(() => statSync(sandbox.pwned)).toThrow(/ENOENT/);
  });

  it('starts a worker with the scheduler address as one exact argument', () => {
    const value = hostileInput(sandbox, 'worker');
    expect(runUserData(value).status).toBe(0);

    expect(sandbox.bash([sandbox.path('/opt/bilbo/bin/start-worker.sh')]).status).toBe(0);

    expect(sandbox.calls('dask').map((call) => call.argv)).toEqual([
      [
        'worker',
        value.bootstrap.schedulerAddress,
        '--nworkers',
        '3',
        '--nthreads',
        '2',
        '--memory-limit',
        '4294967296',
      ],
    ]);
    expect(sandbox.calls('systemctl').map((call) => call.argv)).toEqual([
      ['daemon-reload'],
      ['enable', '--now', 'bilbo-worker.service'],
    ]);
    expect(() => statSync(sandbox.pwned)).toThrow(/ENOENT/);
  });

  it.each(['scheduler', 'worker', 'notebook'] as const)('writes a %s unit that systemd accepts', (role) => {
    expect(runUserData(hostileInput(sandbox, role)).status).toBe(0);

    expect(systemdVerify(sandbox.path(`/etc/systemd/system/bilbo-${role}.service`))).toMatchObject({
      status: 0,
      stderr: '',
    });
  });

  it('starts the scheduler with its fixed ports', () => {
    expect(runUserData(hostileInput(sandbox, 'scheduler')).status).toBe(0);

    expect(sandbox.bash([sandbox.path('/opt/bilbo/bin/start-scheduler.sh')]).status).toBe(0);

    expect(sandbox.calls('dask').map((call) => call.argv)).toEqual([
      ['scheduler', '--port', '8786', '--dashboard-address', ':8787'],
    ]);
  });

  it('starts Jupyter in the workdir, which it creates for dask, with the scheduler address in its environment', () => {
    const value = hostileInput(sandbox, 'notebook');
    expect(runUserData(value).status).toBe(0);
    const workdir = sandbox.path(notebookWorkdir(value.bootstrap.notebook!.workdir));

    expect(sandbox.bash([sandbox.path('/opt/bilbo/bin/start-notebook.sh')]).status).toBe(0);

    expect(sandbox.calls('jupyter')).toEqual([
      expect.objectContaining({
        argv: ['lab', '--ip', '0.0.0.0', '--port', '8888', '--no-browser'],
        cwd: workdir,
        env: expect.objectContaining({ DASK_SCHEDULER_ADDRESS: value.bootstrap.schedulerAddress }),
      }),
    ]);
    expect(statSync(workdir).isDirectory()).toBe(true);
    expect(sandbox.calls('chown')[0]?.argv).toEqual(['dask:dask', '--', workdir]);
    expect(sandbox.calls('git')).toEqual([]);
  });

  it('fetches the Jupyter token as root into a 0600 file that systemd reads back exactly', () => {
    expect(runUserData(hostileInput(sandbox, 'notebook')).status).toBe(0);

    expect(sandbox.bash([sandbox.path('/opt/bilbo/bin/notebook-token.sh')])).toMatchObject({ status: 0 });

    expect(sandbox.ssmCalls()).toContainEqual({ region: 'eu-west-1', name: TOKEN, decrypt: true });
    const envFile = sandbox.path('/etc/bilbo/notebook.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    // Inside double quotes, systemd's EnvironmentFile parser unescapes exactly \ " ` $ and keeps
    // other backslashes and newlines, as bash does: bash reading the file back stands in for systemd.
    expect(sandbox.sourced(envFile, ['$JUPYTER_TOKEN'])).toEqual([tokenValue]);
  });
});
