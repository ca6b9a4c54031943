/**
 * The notebook's git clones as setup commands: one per repository, with
 * the profile's values as environment variables and the password by its
 * secret's name; and the clone script run by bash with a stand-in git that
 * records its arguments, whose credential helper is then run as git runs it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretPaths } from '../../../../../lambdas/adapters/ssm/secret-names.ts';
import { GIT_CLONE_SCRIPT, GIT_ENV } from '../../../../../lambdas/domain/kinds/dask/git.ts';
import { daskKind } from '../../../../../lambdas/domain/kinds/dask/index.ts';
import { planDaskRoles } from '../../../../../lambdas/domain/kinds/dask/plan.ts';
import type { Profile, RolePlan } from '../../../../../schemas/types.generated.ts';

const CLUSTER_ID = 'c-0123456789abcdef';
const FACTS = { name: 't3.large', vcpus: 2, threadsPerCore: 1, memoryMiB: 8192 };
const secrets = new SecretPaths();

async function rolesOf(profile: Profile): Promise<RolePlan[]> {
  return (await planDaskRoles(profile, async () => FACTS)).roles;
}

const git = {
  repository: ['https://github.com/acme/models.git', 'https://gitlab.example.com:8443/acme/etl.git'] as [
    string,
    string,
  ],
  user: 'someone',
  email: 'someone@example.com',
  password: 'not-a-real-token',
};

describe('the Dask kind’s setup commands', () => {
  it('are none for the scheduler, the workers, and a notebook without git', async () => {
    for (const role of await rolesOf({ dask: {}, notebook: {} })) {
      expect(daskKind.setupCommands(CLUSTER_ID, role, secrets), role.role).toEqual([]);
    }
  });

  it("are one clone per repository, in the notebook's workdir, the password by its secret's name only", async () => {
    const [notebook] = await rolesOf({ notebook: { workdir: '~/notebooks', git } });

    const commands = daskKind.setupCommands(CLUSTER_ID, notebook!, secrets);

    expect(commands).toEqual(
      git.repository.map((repository) => ({
        what: `git clone ${repository}`,
        script: {
          script: GIT_CLONE_SCRIPT,
          workdir: 'notebooks',
          env: {
            [GIT_ENV.user]: 'someone',
            [GIT_ENV.email]: 'someone@example.com',
            [GIT_ENV.repository]: repository,
          },
          secretEnv: { [GIT_ENV.password]: `/bilbo/clusters/${CLUSTER_ID}/git-password` },
        },
      })),
    );
    expect(JSON.stringify(commands)).not.toContain(git.password);
    // No user: the service user that owns the workdir (dask on EC2), never root.
    expect(commands.every((command) => command.script.user === undefined)).toBe(true);
  });

  it('read no secret when the profile gives an empty password', async () => {
    const [notebook] = await rolesOf({
      notebook: { git: { ...git, repository: git.repository[0]!, password: '' } },
    });

    const [clone] = daskKind.setupCommands(CLUSTER_ID, notebook!, secrets);

    expect(clone?.script.secretEnv).toBeUndefined();
    expect(clone?.script.workdir).toBe('works');
  });
});

describe('the clone script', () => {
  let dir: string;
  const pwned = () => existsSync(join(dir, 'pwned'));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bilbo-git-script-'));
    mkdirSync(join(dir, 'bin'));
    // git: records each argument, NUL-terminated, and succeeds.
    writeFileSync(join(dir, 'bin', 'git'), '#!/bin/bash\nprintf \'%s\\0\' "$@" >"$GIT_ARGS"\n');
    chmodSync(join(dir, 'bin', 'git'), 0o755);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function clone(env: Record<string, string>) {
    const args = join(dir, 'args');
    const run = spawnSync('bash', ['-c', GIT_CLONE_SCRIPT], {
      cwd: dir,
      env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, GIT_ARGS: args, GIT_TRACE: '1', ...env },
      encoding: 'utf8',
    });
    return { ...run, argv: readFileSync(args, 'utf8').split('\0').slice(0, -1) };
  }

  /** What git's `!` helper prints for `get`: git runs it with sh, the action appended. */
  function askHelper(helper: string, env: Record<string, string>): string {
    const run = spawnSync('sh', ['-c', `${helper.replace(/^credential\.helper=!/, '')} get`], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    return run.stdout;
  }

  const touch = () => `$(touch ${join(dir, 'pwned')})`;
  const hostile = () => ({
    [GIT_ENV.repository]: `https://example.com/${touch().replace(' ', `$${'{IFS}'}`)}/it's;"q".git`,
    [GIT_ENV.user]: `o'brien ${touch()} "x" \\ %s -c`,
    [GIT_ENV.email]: `o'brien+${touch()}@example.com`,
    [GIT_ENV.password]: `pa'ss "w" ${touch()} \`id\` %s \\n $HOME`,
  });

  it('hands git the repository, the name and the email as exact arguments, and the password in none', () => {
    const env = hostile();

    const run = clone(env);

    expect(run.status).toBe(0);
    expect(run.argv).toEqual([
      '-c',
      'credential.helper=',
      '-c',
      expect.stringMatching(/^credential\.helper=!f\(\)/),
      'clone',
      '--quiet',
      '--config',
      `user.name=${env[GIT_ENV.user]}`,
      '--config',
      `user.email=${env[GIT_ENV.email]}`,
      '--',
      env[GIT_ENV.repository],
    ]);
    expect(run.argv.join('\n')).not.toContain("pa'ss");
    expect(pwned()).toBe(false);
  });

  it('gives git a credential helper that answers get with the user and the password exactly, and nothing else', () => {
    const env = hostile();
    const helper = clone(env).argv[3]!;

    expect(askHelper(helper, env)).toBe(`username=${env[GIT_ENV.user]}\npassword=${env[GIT_ENV.password]}\n`);
    expect(
      spawnSync('sh', ['-c', `${helper.slice('credential.helper=!'.length)} store`], { env }).stdout.length,
    ).toBe(0);
    expect(pwned()).toBe(false);
  });

  it('clears every other credential helper and gives none of its own without a password', () => {
    const { [GIT_ENV.password]: _password, ...env } = hostile();

    expect(clone(env).argv.slice(0, 3)).toEqual(['-c', 'credential.helper=', 'clone']);
  });
});
