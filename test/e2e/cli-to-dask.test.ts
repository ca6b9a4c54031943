/**
 * The whole path, as a user runs it: the `bilbo` CLI (a separate process)
 * signs requests to the local control plane, which runs the synthesized
 * workflow over DynamoDB Local and starts real Dask processes; a real
 * `distributed.Client` computes on the cluster; destroying it, then
 * stopping the control plane, leaves no process behind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Plan } from '../../schemas/types.generated.ts';
import { compute } from '../support/dask-client.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const repo = join(import.meta.dirname, '..', '..');
let harness: TestControlPlane;
const bilbo = (...args: string[]) => harness.bilbo(...args);

beforeAll(async () => {
  harness = await startTestControlPlane();
  mkdirSync(join(harness.home, 'profiles'));
  writeFileSync(
    join(harness.home, 'profiles', 'Team-Analytics.json'),
    JSON.stringify({ description: 'e2e', dask: { worker: { count: 2, nproc: 1, nthread: 1 } } }),
  );
});

afterAll(async () => {
  await harness?.stop();
});

describe('bilbo, end to end on the local control plane', () => {
  let cluster: Cluster;

  it('creates a cluster from a profile in the profiles folder, showing progress, and exits 0 when READY', async () => {
    const created = await bilbo('create', 'Team-Analytics', '--json');

    expect(created.code).toBe(0);
    cluster = JSON.parse(created.stdout) as Cluster;
    expect(cluster).toMatchObject({ name: 'team-analytics', state: 'READY', workersJoined: 2 });
    expect(cluster.owner).toMatch(/^local:/);
    expect(created.stderr).toContain('launching scheduler');
    expect(created.stderr).toContain('2/2 workers joined');
  });

  it('plans a profile written for the original bilbo, given by path, noting what local mode ignores', async () => {
    const planned = await bilbo('plan', join(repo, 'examples/original-bilbo.json'), '--json');

    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout) as Plan;
    expect(plan.cluster).toBe('original-bilbo');
    expect(plan.roles.map((role) => [role.role, role.count, role.instance.ec2type])).toEqual([
      ['scheduler', 1, 't3.medium'],
      ['worker', 2, 'm5.xlarge'],
    ]);
    expect(plan.roles[1]?.instance.tags).toEqual([
      ['Owner', 'data-team'],
      ['Project', 'forecast-workers'],
    ]);
    expect(plan.notes.join('\n')).toMatch(/ami, keyname, security_group.*ignored/);
  });

  it('runs a computation on it with a real distributed.Client', async () => {
    const { stdout } = await compute(cluster.schedulerAddress ?? '');
    expect(stdout.trim()).toBe('332833500 2');
  });

  it('lists it, and refuses a second live cluster of the same name with exit 1', async () => {
    const listed = await bilbo('ls', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ name: 'team-analytics', state: 'READY' }),
    ]);

    const again = await bilbo('create', 'Team-Analytics');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });

  it('rejects a request signed with the wrong secret with exit 4', async () => {
    const { code, stderr } = await (async () => {
      const saved = harness.credentials.secretAccessKey;
      harness.credentials.secretAccessKey = 'not-the-secret';
      try {
        return await bilbo('ls');
      } finally {
        harness.credentials.secretAccessKey = saved;
      }
    })();
    expect(code).toBe(4);
    expect(stderr).toMatch(/signature/i);
  });

  it('destroys it with -f, leaving no Dask process', async () => {
    const destroyed = await bilbo('destroy', 'team-analytics', '-f');

    expect(destroyed.code).toBe(0);
    expect((await bilbo('desc', 'team-analytics', '--json')).stdout).toContain('"DESTROYED"');
    expect(await harness.liveProcesses(cluster.id)).toEqual([]);
  });

  it('stops the control plane with no process left behind', async () => {
    const everything = await harness.plane.processes!.registry.list();
    await harness.stop();
    expect(everything.length).toBe(3);
    expect(await harness.liveProcesses()).toEqual([]);
  });
});
