import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../lambdas/domain/plan.ts';
import { duration, renderPlanText } from '../../../lambdas/domain/plan-text.ts';
import type { Plan, Profile } from '../../../schemas/types.generated.ts';
import { fakeCatalog, profileFixture } from './plan-fixtures.ts';

describe('renderPlanText', () => {
  it('renders a planned fixture profile line by line', async () => {
    const plan = await buildPlan({
      name: 'analytics',
      profile: { ...profileFixture('notebook-git-string.json'), dask: { worker: { count: 2, nthread: 2 } } },
      catalog: fakeCatalog(() => ['instances are launched in the default VPC']).catalog,
    });
    plan.roles[1]!.instanceType = { name: 'm5.xlarge', vcpus: 4, threadsPerCore: 2, memoryMiB: 16384 };
    plan.roles[1]!.dask = { nworkers: 2, nthreads: 2, memoryLimitBytes: 7_730_941_132 };
    plan.totalWorkers = 4;
    plan.wantedWorkers = 4;
    expect(renderPlanText(plan)).toBe(
      [
        'cluster: analytics (dask)',
        'scheduler  1 × t3.medium (2 vCPU, 4.0 GiB)',
        '           name analytics-scheduler-0; tags none',
        'worker     2 × m5.xlarge (4 vCPU, 16.0 GiB) — 2 processes × 2 threads, 7.2 GiB each',
        '           names analytics-worker-0 … analytics-worker-1; tags none',
        'notebook   1 × t3.large (2 vCPU, 8.0 GiB) — workdir /home/ubuntu/work; git https://github.com/example/analysis.git',
        '           name analytics-notebook-0; tags none',
        'wanted workers: 4 of 4',
        'timeouts: ready 10m, idle 1h, max lifetime 24h',
        'note: instances are launched in the default VPC',
        '',
      ].join('\n'),
    );
  });

  it('says "Nothing to do." for a profile with neither dask nor notebook, and what a notebook alone waits for', async () => {
    const plan = (profile: Profile) =>
      buildPlan({ name: 'analytics', profile, catalog: fakeCatalog().catalog });

    expect(renderPlanText(await plan({ instance: { ec2type: 't3.medium' } }))).toBe('Nothing to do.\n');
    const notebookOnly = renderPlanText(await plan({ notebook: {} }));
    expect(notebookOnly).toMatch(/^notebook {3}1 × /m);
    expect(notebookOnly).not.toMatch(/^(scheduler|worker) /m);
    expect(notebookOnly).toContain('no Dask: READY once the notebook answers\n');
  });

  it('shows the instance prefix, each role’s instance names with their indices, and its tags merged by key', async () => {
    const original = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../../examples/original-bilbo.json'), 'utf8'),
    ) as Profile;
    original.dask!.worker!.count = 12;
    const plan = await buildPlan({ name: 'nightly', profile: original, catalog: fakeCatalog().catalog });

    const lines = renderPlanText(plan).split('\n');

    expect(lines.slice(0, 2)).toEqual(['cluster: nightly (dask)', 'instance prefix: team-']);
    expect(lines.filter((line) => line.startsWith('           '))).toEqual([
      '           name team-nightly-scheduler-0; tags Owner=data-team, Project=forecast',
      // The role's Project replaces the common one, in place.
      '           names team-nightly-worker-0 … team-nightly-worker-11; tags Owner=data-team, Project=forecast-workers',
    ]);
  });

  it('quotes a tag or prefix that spaces or punctuation would blur', () => {
    const plan: Plan = {
      cluster: 'c',
      kind: 'dask',
      instancePrefix: 'my team ',
      roles: [
        {
          role: 'worker',
          count: 1,
          instance: {
            tags: [
              ['Name Prefix', ' spaced '],
              ['cost', 'a=b,c'],
            ],
            init_cmd: [],
          },
          instanceType: { name: 'm5.large', vcpus: 2, threadsPerCore: 2, memoryMiB: 8192 },
        },
      ],
      wantedWorkers: 0,
      readyTimeoutSeconds: 600,
      idleTimeoutSeconds: 0,
      maxLifetimeSeconds: 0,
      notes: [],
    };

    const text = renderPlanText(plan);

    expect(text).toContain('instance prefix: "my team "\n');
    expect(text).toContain(
      '           name my team c-worker-0; tags "Name Prefix"=" spaced ", cost="a=b,c"\n',
    );
  });

  it("lists each role's init commands in order, as the profile resolves them, and what a failing one does", async () => {
    const plan = await buildPlan({
      name: 'analytics',
      profile: {
        instance: { init_cmd: ['pip install pandas', 'echo done'] },
        dask: { worker: { count: 1, instance: { init_cmd: ['exit 3'], init_fail: 'fail' } } },
      },
      catalog: fakeCatalog().catalog,
    });

    const lines = renderPlanText(plan).split('\n');

    const scheduler = lines.findIndex((line) => line.startsWith('scheduler '));
    expect(lines.slice(scheduler + 2, scheduler + 5)).toEqual([
      '           init_cmd, once at create (a failing command is a warning):',
      '             1. pip install pandas',
      '             2. echo done',
    ]);
    const worker = lines.findIndex((line) => line.startsWith('worker '));
    expect(lines.slice(worker + 2, worker + 4)).toEqual([
      '           init_cmd, once at create (a failing command fails the create):',
      '             1. exit 3',
    ]);
  });

  it('shows the longest timeouts a profile may set in hours, never in exponent notation', async () => {
    const plan = await buildPlan({
      name: 'analytics',
      profile: { dask: {}, ready_timeout: 7200, idle_timeout: 2_592_000, max_lifetime: 31_536_000 },
      catalog: fakeCatalog().catalog,
    });

    expect(renderPlanText(plan)).toContain('timeouts: ready 2h, idle 720h, max lifetime 8760h\n');
  });

  it('says when it waits for no worker and nothing removes the cluster', () => {
    const plan: Plan = {
      cluster: 'tiny',
      kind: 'dask',
      roles: [
        {
          role: 'scheduler',
          count: 1,
          instance: { tags: [], init_cmd: [] },
          instanceType: { name: 'this machine', vcpus: 2, threadsPerCore: 1, memoryMiB: 1536 },
        },
        {
          role: 'worker',
          count: 1,
          instance: { tags: [], init_cmd: [] },
          instanceType: { name: 'this machine', vcpus: 2, threadsPerCore: 1, memoryMiB: 1536 },
          dask: { nworkers: 1, nthreads: 1, memoryLimitBytes: 1_395_864_371 },
        },
      ],
      wantedWorkers: 0,
      readyTimeoutSeconds: 90,
      idleTimeoutSeconds: 0,
      maxLifetimeSeconds: 0,
      notes: [],
    };
    expect(renderPlanText(plan)).toBe(
      [
        'cluster: tiny (dask)',
        'scheduler  1 × this machine (2 vCPU, 1.5 GiB)',
        '           name tiny-scheduler-0; tags none',
        'worker     1 × this machine (2 vCPU, 1.5 GiB) — 1 process × 1 thread, 1.3 GiB each',
        '           name tiny-worker-0; tags none',
        'wanted workers: none (READY once the scheduler answers; 1 will join)',
        'timeouts: ready 1m30s, idle never, max lifetime none',
        '',
      ].join('\n'),
    );
  });
});

describe('duration', () => {
  it.each([
    [600, '10m'],
    [3600, '1h'],
    [86400, '24h'],
    [5400, '1h30m'],
    [45, '45s'],
    [3661, '1h1m1s'],
    [0, '0s'],
  ])('writes %i seconds as %s', (seconds, text) => {
    expect(duration(seconds)).toBe(text);
  });
});
