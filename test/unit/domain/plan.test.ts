import { describe, expect, it } from 'vitest';
import { InvalidClusterNameError, ValidationError } from '../../../lambdas/domain/errors.ts';
import { buildPlan } from '../../../lambdas/domain/plan.ts';
import type { Plan, Profile } from '../../../schemas/types.generated.ts';
import { assertValid } from '../../../schemas/validate.ts';
import { fakeCatalog, profileFixture } from './plan-fixtures.ts';

const plan = (profile: Profile, notesFor?: Parameters<typeof fakeCatalog>[0]) =>
  buildPlan({ name: 'analytics', profile, catalog: fakeCatalog(notesFor).catalog });

describe('buildPlan', () => {
  it.each([
    'minimal.json',
    'dask-sized.json',
    'notebook-git-string.json',
    'notebook-git-list.json',
    'everything.json',
  ])('builds a plan that matches the plan schema for %s', async (file) => {
    const built = await plan(profileFixture(file));
    expect(assertValid<Plan>('api/plan.schema.json', built, 'plan')).toBe(built);
  });

  it('lists the roles in launch order, with Dask options on the worker only', async () => {
    const built = await plan(profileFixture('dask-sized.json'));
    expect(built).toEqual({
      cluster: 'analytics',
      kind: 'dask',
      roles: [
        {
          role: 'scheduler',
          count: 1,
          instance: expect.objectContaining({ ec2type: 't3.large', vol_size: 30 }),
          instanceType: expect.objectContaining({ name: 't3.large' }),
        },
        {
          role: 'worker',
          count: 4,
          instance: expect.objectContaining({
            ec2type: 'm5.xlarge',
            vol_size: 100,
            tags: [
              ['Owner', 'data-team'],
              ['Project', 'etl-workers'],
              ['Spot', 'no'],
            ],
          }),
          instanceType: expect.objectContaining({ name: 'm5.xlarge' }),
          dask: { nworkers: 2, nthreads: 2, memoryLimitBytes: 7_730_941_132 },
        },
      ],
      wantedWorkers: 8,
      totalWorkers: 8,
      readyTimeoutSeconds: 600,
      idleTimeoutSeconds: 3600,
      maxLifetimeSeconds: 86400,
      notes: [],
    });
  });

  it('plans the notebook with its workdir and repositories', async () => {
    const built = await plan(profileFixture('notebook-git-list.json'));
    expect(built.roles.map((r) => r.role)).toEqual(['scheduler', 'worker', 'notebook']);
    expect(built.roles[2]).toMatchObject({
      count: 1,
      notebook: { workdir: '~/notebooks', gitRepositories: expect.any(Array) },
    });
    expect(built.roles[2]).not.toHaveProperty('dask');
  });

  it('asks the catalog once per distinct instance type', async () => {
    const { catalog, described } = fakeCatalog();
    await buildPlan({ name: 'a', profile: profileFixture('notebook-git-string.json'), catalog });
    expect(described.sort()).toEqual(['t3.large', 't3.medium']);
  });

  it('asks the catalog about "no type" once when no instance names one', async () => {
    const { catalog, described } = fakeCatalog();
    const built = await buildPlan({ name: 'a', profile: { dask: {} }, catalog });
    expect(described).toEqual([undefined]);
    expect(built.roles[1]?.dask).toEqual({ nworkers: 2, nthreads: 1, memoryLimitBytes: 11_596_411_699 });
  });

  it("carries the profile's webbrowser, for the CLI that opens the cluster's URLs", async () => {
    expect((await plan({ webbrowser: '/usr/bin/firefox' })).webbrowser).toBe('/usr/bin/firefox');
    expect(await plan({})).not.toHaveProperty('webbrowser');
  });

  it('takes the profile timeouts over the schema defaults', async () => {
    const built = await plan({ ready_timeout: 60, idle_timeout: 0, max_lifetime: 7200 });
    expect(built).toMatchObject({ readyTimeoutSeconds: 60, idleTimeoutSeconds: 0, maxLifetimeSeconds: 7200 });
    expect(built.notes).toContain('idle_timeout is 0: the cluster is never removed for being idle');
  });

  it.each<[Profile['wait_workers'], number]>([
    [undefined, 6],
    [true, 6],
    [false, 0],
    [4, 4],
    [0, 0],
    [6, 6],
  ])('wants %s → %i of 6 worker processes', async (waitWorkers, wanted) => {
    const profile: Profile = { instance: { ec2type: 'm5.xlarge' }, dask: { worker: { count: 3 } } };
    if (waitWorkers !== undefined) profile.wait_workers = waitWorkers;
    const built = await plan(profile);
    expect([built.totalWorkers, built.wantedWorkers]).toEqual([6, wanted]);
  });

  it('caps wait_workers at the worker processes it runs, with a note', async () => {
    const built = await plan({ instance: { ec2type: 'm5.xlarge' }, dask: {}, wait_workers: 10 });
    expect(built.wantedWorkers).toBe(2);
    expect(built.notes).toContain(
      'wait_workers is 10 but the cluster runs 2 worker processes: waiting for 2',
    );
  });

  it("gathers the catalog's notes once each", async () => {
    const built = await plan(profileFixture('dask-sized.json'), (instance) => [
      'local mode runs every role on this machine',
      `${instance.ec2type} is emulated`,
    ]);
    expect(built.notes).toEqual([
      'local mode runs every role on this machine',
      't3.large is emulated',
      'm5.xlarge is emulated',
    ]);
  });

  it('notes vCPUs left idle by a hand-sized worker', async () => {
    const built = await plan({
      instance: { ec2type: 'c5.2xlarge' },
      dask: { worker: { nproc: 1, nthread: 2 } },
    });
    expect(built.notes).toContain(
      'each worker instance runs 2 Dask threads on 8 vCPUs: raise dask.worker.nproc or dask.worker.nthread to use them all',
    );
  });

  it('notes worker processes with little memory', async () => {
    const built = await plan({
      instance: { ec2type: 't3.small' },
      dask: { worker: { nproc: 2, nthread: 1 } },
    });
    expect(built.notes).toContain(
      'each Dask worker process gets 0.9 GiB of memory: use fewer processes (dask.worker.nproc) or a larger instance type',
    );
  });

  it('refuses an invalid cluster name', async () => {
    await expect(
      buildPlan({ name: 'Bad Name', profile: {}, catalog: fakeCatalog().catalog }),
    ).rejects.toThrow(InvalidClusterNameError);
  });

  it('refuses a ray profile', async () => {
    await expect(plan({ ray: {} })).rejects.toThrow(ValidationError);
  });
});
