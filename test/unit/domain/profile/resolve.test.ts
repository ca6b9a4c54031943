import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../lambdas/domain/errors.ts';
import { mergeTags, resolveRoleInstance, resolveRoles } from '../../../../lambdas/domain/profile/resolve.ts';
import type { Profile } from '../../../../schemas/types.generated.ts';
import { validateProfile } from '../../../../schemas/validate.ts';

const fixture = (name: string): Profile =>
  validateProfile(
    JSON.parse(readFileSync(join(import.meta.dirname, '../../../fixtures/profiles', name), 'utf8')),
  );

describe('resolveRoleInstance', () => {
  it('overlays the role instance on the common one, field by field', () => {
    const resolved = resolveRoleInstance(
      { ami: 'ami-1', ec2type: 't3.medium', keyname: 'k', vol_size: 8 },
      { ec2type: 'm5.xlarge', vol_size: 100 },
    );
    expect(resolved).toEqual({
      ami: 'ami-1',
      ec2type: 'm5.xlarge',
      keyname: 'k',
      vol_size: 100,
      tags: [],
      init_cmd: [],
    });
  });

  it('gives empty tags and init_cmd and no other fields when both are missing', () => {
    expect(resolveRoleInstance(undefined, undefined)).toEqual({ tags: [], init_cmd: [] });
  });

  it('leaves ec2type out when neither gives one', () => {
    expect(resolveRoleInstance({ ami: 'ami-1' }, {})).not.toHaveProperty('ec2type');
  });

  it('merges tags by key: common order first, role values in place, new keys appended', () => {
    const resolved = resolveRoleInstance(
      {
        tags: [
          ['team', 'data'],
          ['env', 'dev'],
          ['cost', '1'],
        ],
      },
      {
        tags: [
          ['new', 'x'],
          ['env', 'prod'],
        ],
      },
    );
    expect(resolved.tags).toEqual([
      ['team', 'data'],
      ['env', 'prod'],
      ['cost', '1'],
      ['new', 'x'],
    ]);
  });

  it('keeps tag keys and values byte for byte', () => {
    const resolved = resolveRoleInstance({ tags: [[' Key ', ' Value ']] }, { tags: [['key', 'other']] });
    expect(resolved.tags).toEqual([
      [' Key ', ' Value '],
      ['key', 'other'],
    ]);
  });

  it("replaces the common init_cmd with the role's when the role gives one", () => {
    expect(resolveRoleInstance({ init_cmd: ['a', 'b'] }, { init_cmd: ['c'] }).init_cmd).toEqual(['c']);
    expect(resolveRoleInstance({ init_cmd: ['a', 'b'] }, {}).init_cmd).toEqual(['a', 'b']);
    expect(resolveRoleInstance({ init_cmd: ['a'] }, { init_cmd: [] }).init_cmd).toEqual([]);
  });

  it('shares no list with its inputs', () => {
    const common = { tags: [['a', 'b']] as [string, string][], init_cmd: ['x'] };
    const resolved = resolveRoleInstance(common, undefined);
    resolved.tags.push(['c', 'd']);
    resolved.init_cmd.push('y');
    expect(common).toEqual({ tags: [['a', 'b']], init_cmd: ['x'] });
  });
});

describe('mergeTags', () => {
  it('keeps the last value of a key repeated in one list, at its first place', () => {
    expect(
      mergeTags(
        [
          ['a', '1'],
          ['b', '2'],
          ['a', '3'],
        ],
        [],
      ),
    ).toEqual([
      ['a', '3'],
      ['b', '2'],
    ]);
  });
});

describe('resolveRoles', () => {
  it('gives a scheduler and one worker for a profile without a dask section', () => {
    const roles = resolveRoles({ instance: { ec2type: 't3.medium' } });
    expect(roles.map((r) => [r.role, r.count, r.instance.ec2type])).toEqual([
      ['scheduler', 1, 't3.medium'],
      ['worker', 1, 't3.medium'],
    ]);
  });

  it('resolves every role of a full original profile', () => {
    const [scheduler, worker, notebook, ...rest] = resolveRoles(fixture('everything.json'));
    expect(rest).toEqual([]);
    expect(scheduler).toEqual({
      role: 'scheduler',
      count: 1,
      instance: {
        ami: 'ami-0f49fa6fe5fc0a0c1',
        ec2type: 't3.small',
        keyname: 'scheduler-key',
        security_group: 'sg-00aa11bb22cc33dd4',
        vol_size: 20,
        ssh_user: 'admin',
        ssh_private_key: '~/.ssh/scheduler-key.pem',
        init_cmd: ['echo common'],
        tags: [
          ['Name Prefix', ' spaced '],
          ['cost-center', '5678'],
        ],
      },
    });
    expect(worker).toMatchObject({
      role: 'worker',
      count: 2,
      worker: { nproc: 4, nthread: 1 },
      instance: {
        ec2type: 'c5.2xlarge',
        vol_size: 50,
        init_cmd: ['echo worker', 'echo again'],
        tags: [
          ['Name Prefix', ' spaced '],
          ['cost-center', '1234'],
          ['role', 'worker'],
        ],
      },
    });
    expect(notebook).toMatchObject({
      role: 'notebook',
      count: 1,
      instance: { ec2type: 'r5.large', ami: 'ami-00112233445566778', init_cmd: ['echo notebook'] },
      notebook: { workdir: '/data/work', gitRepositories: ['https://github.com/example/everything.git'] },
    });
  });

  it('takes a list of git repositories as it is, and keeps the git password out of the plan', () => {
    const notebook = resolveRoles(fixture('notebook-git-list.json')).find((r) => r.role === 'notebook');
    expect(notebook?.notebook).toEqual({
      workdir: '~/notebooks',
      gitRepositories: ['https://github.com/example/models.git', 'https://github.com/example/data-tools.git'],
      gitUser: 'ml-bot',
      gitEmail: 'ml-bot@example.com',
      hasGitPassword: true,
    });
  });

  it('adds a notebook only when the profile has a notebook section', () => {
    expect(resolveRoles(fixture('minimal.json')).map((r) => r.role)).toEqual(['scheduler', 'worker']);
    expect(resolveRoles({ notebook: {} }).map((r) => r.role)).toEqual(['scheduler', 'worker', 'notebook']);
  });

  it('refuses a ray cluster', () => {
    expect(() => resolveRoles({ ray: {} })).toThrow(ValidationError);
    expect(() => resolveRoles({ ray: {} })).toThrow(
      expect.objectContaining({
        field: 'ray',
        message: expect.stringMatching(/^ray clusters are not supported yet/),
      }),
    );
  });
});
