import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../../lambdas/domain/errors.ts';
import {
  daskPrimaryRole,
  daskRoleInstance,
  resolveRoles,
} from '../../../../../lambdas/domain/kinds/dask/roles.ts';
import { kindForProfile } from '../../../../../lambdas/domain/kinds/index.ts';
import type { Profile } from '../../../../../schemas/types.generated.ts';
import { validateProfile } from '../../../../../schemas/validate.ts';

const fixture = (name: string): Profile =>
  validateProfile(
    JSON.parse(readFileSync(join(import.meta.dirname, '../../../../fixtures/profiles', name), 'utf8')),
  );

describe('resolveRoles', () => {
  it('gives a scheduler and one worker for an empty dask section', () => {
    const roles = resolveRoles({ instance: { ec2type: 't3.medium' }, dask: {} });
    expect(roles.map((r) => [r.role, r.count, r.instance.ec2type])).toEqual([
      ['scheduler', 1, 't3.medium'],
      ['worker', 1, 't3.medium'],
    ]);
  });

  it('asks for nothing when the profile has neither a dask nor a notebook section', () => {
    expect(resolveRoles({ instance: { ec2type: 't3.medium' } })).toEqual([]);
    expect(resolveRoles({})).toEqual([]);
  });

  it('gives one notebook instance, and no Dask, for a notebook section alone', () => {
    const roles = resolveRoles({ instance: { ec2type: 't3.medium' }, notebook: {} });
    expect(roles.map((r) => [r.role, r.count])).toEqual([['notebook', 1]]);
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
      notebook: {
        workdir: '/home/ubuntu/data/work',
        gitRepositories: ['https://github.com/example/everything.git'],
      },
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
    expect(resolveRoles({ dask: {}, notebook: {} }).map((r) => r.role)).toEqual([
      'scheduler',
      'worker',
      'notebook',
    ]);
  });
});

describe('daskPrimaryRole', () => {
  it('is the scheduler when there is one, else the notebook', () => {
    expect(
      daskPrimaryRole({ roles: [{ role: 'scheduler' }, { role: 'worker' }, { role: 'notebook' }] }),
    ).toBe('scheduler');
    expect(daskPrimaryRole({ roles: [{ role: 'notebook' }] })).toBe('notebook');
    expect(() => daskPrimaryRole({ roles: [] })).toThrow('no primary role');
  });
});

describe('daskRoleInstance', () => {
  it('names where each role keeps its own instance in a profile', () => {
    const profile: Profile = { dask: { worker: { instance: { ec2type: 'c5.large' } } } };

    expect(daskRoleInstance(profile, 'worker')).toEqual({
      path: 'dask.worker.instance',
      instance: { ec2type: 'c5.large' },
    });
    expect(daskRoleInstance(profile, 'scheduler')).toEqual({
      path: 'dask.scheduler.instance',
      instance: undefined,
    });
    expect(daskRoleInstance(profile, 'notebook').path).toBe('notebook.instance');
  });
});

describe('kindForProfile', () => {
  it('is Dask for a profile with a dask section, or with none, as in the original bilbo', () => {
    expect(kindForProfile({ dask: {} }).name).toBe('dask');
    expect(kindForProfile({ instance: { ec2type: 't3.small' } }).name).toBe('dask');
  });

  it('refuses a ray cluster', () => {
    expect(() => kindForProfile({ ray: {} })).toThrow(ValidationError);
    expect(() => kindForProfile({ ray: {} })).toThrow(
      expect.objectContaining({
        field: 'ray',
        message: expect.stringMatching(/^ray clusters are not supported yet/),
      }),
    );
  });
});
