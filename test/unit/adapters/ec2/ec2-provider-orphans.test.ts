import type { Tag } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { RetryingMachineProvider } from '../../../../lambdas/adapters/retrying-provider.ts';
import { REAPER_DEFAULTS } from '../../../../lambdas/domain/reaper/rules.ts';
import { sweepClusters } from '../../../../lambdas/domain/use-cases/sweep-clusters.ts';
import {
  type Ec2Mock,
  ec2Errors,
  launchedByBilbo,
  MOCK_DEPLOYMENT_ID,
  mockEc2,
  type SeedOptions,
} from '../../../support/ec2-mock.ts';
import { useSweepHarness } from '../../../support/sweep-harness.ts';
import { CLUSTER_ID, providerOver } from './launch-fixtures.ts';

const OTHER_DEPLOYMENT = '0b7c9e10-9d2b-11f1-8c3e-06a1b2c3d4e5';
const LAUNCHED = new Date('2026-01-01T12:00:00.000Z');
const noWait = { minTimeout: 0, maxTimeout: 0 };

/** The tags bilbo's launch puts on a volume of the cluster's role. */
function volumeTags(clusterId: string, deploymentId = MOCK_DEPLOYMENT_ID): Tag[] {
  return [
    { Key: 'bilbo:cluster-id', Value: clusterId },
    { Key: 'bilbo:role', Value: 'worker' },
    { Key: 'bilbo:managed', Value: deploymentId },
  ];
}

/** Instances that carry some of bilbo's tags but are not this deployment's, by what gives them away. */
function foreignInstances(ec2: Ec2Mock, clusterId: string): Record<string, string> {
  const ours = launchedByBilbo(clusterId);
  const seedOne = (options: SeedOptions) => ec2.state.seed(1, { ...options, state: 'running' })[0]!;
  return {
    "another deployment's tag": seedOne({
      ...ours,
      tags: ours.tags!.map((tag) =>
        tag.Key === 'bilbo:managed' ? { ...tag, Value: OTHER_DEPLOYMENT } : tag,
      ),
    }),
    'no managed tag': seedOne({ ...ours, tags: ours.tags!.filter((tag) => tag.Key !== 'bilbo:managed') }),
    'another instance profile': seedOne({
      ...ours,
      instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/someone-elses',
    }),
    "another launch's client token": seedOne({ ...ours, clientToken: 'console-launch-7f3a' }),
  };
}

describe('Ec2MachineProvider.findManaged', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('finds every instance of any cluster carrying the deployment’s tag, stopped included, with its cluster, role and launch time', async () => {
    ec2 = mockEc2({ pageSize: 5 });
    const running = ec2.state.seed(4, { ...launchedByBilbo(CLUSTER_ID, 'worker'), state: 'running' });
    const stopped = ec2.state.seed(3, {
      ...launchedByBilbo('c-00000000000000aa', 'scheduler'),
      state: 'stopped',
      launchTime: LAUNCHED,
    });
    const [gone] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'terminated' });

    const machines = await providerOver(ec2).findManaged();

    expect(machines.map((machine) => machine.id).sort()).toEqual([...running, ...stopped].sort());
    expect(machines.map((machine) => machine.id)).not.toContain(gone);
    expect(machines.find((machine) => machine.id === stopped[0])).toEqual({
      id: stopped[0],
      clusterId: 'c-00000000000000aa',
      role: 'scheduler',
      state: 'stopped',
      launchedAt: LAUNCHED.toISOString(),
    });
    const inputs = ec2.inputsOf('DescribeInstances');
    expect(inputs.length).toBeGreaterThan(1);
    expect(inputs[0]?.Filters).toEqual([
      { Name: 'tag:bilbo:managed', Values: [MOCK_DEPLOYMENT_ID] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
  });

  it('never finds an instance of another deployment, without the tag, or that fails the provenance check, and reports those it saw', async () => {
    ec2 = mockEc2();
    const ours = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    const foreign = foreignInstances(ec2, CLUSTER_ID);
    const warnings: string[] = [];

    const machines = await providerOver(ec2, {}, (line) => warnings.push(line)).findManaged();

    expect(machines.map((machine) => machine.id)).toEqual(ours);
    // The tag filter leaves out the first two; the other two are seen and refused.
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toContain(foreign['another instance profile']);
    expect(warnings.join('\n')).toContain(foreign["another launch's client token"]);
  });

  it('is asked again when EC2 throttles the describe, as every provider call is', async () => {
    ec2 = mockEc2({ pageSize: 5 });
    ec2.state.seed(12, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    ec2.fail({ command: 'DescribeInstances', error: ec2Errors.throttled(), call: 2, times: 2 });

    const machines = await new RetryingMachineProvider(providerOver(ec2), noWait).findManaged();

    expect(machines).toHaveLength(12);
    expect(ec2.callsOf('DescribeInstances')).toBe(1 + 2 + 3);
  });
});

describe('Ec2MachineProvider loose volumes', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('finds the available volumes carrying the deployment’s tag, page by page, never an attached one or another deployment’s', async () => {
    ec2 = mockEc2({ pageSize: 5 });
    const [instance] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    const loose = ec2.state.volumes.seed(7, { tags: volumeTags(CLUSTER_ID), createTime: LAUNCHED });
    ec2.state.volumes.seed(1, { tags: volumeTags(CLUSTER_ID), attachedTo: instance! });
    ec2.state.volumes.seed(1, { tags: volumeTags(CLUSTER_ID, OTHER_DEPLOYMENT) });
    const [untagged] = ec2.state.volumes.seed(1, {
      tags: [{ Key: 'bilbo:managed', Value: MOCK_DEPLOYMENT_ID }],
    });
    const warnings: string[] = [];

    const volumes = await providerOver(ec2, {}, (line) => warnings.push(line)).findLooseVolumes();

    expect(volumes.map((volume) => volume.id)).toEqual(loose);
    expect(volumes[0]).toEqual({ id: loose[0], clusterId: CLUSTER_ID, createdAt: LAUNCHED.toISOString() });
    expect(ec2.callsOf('DescribeVolumes')).toBe(2);
    expect(warnings).toEqual([expect.stringContaining(`left volume ${untagged} alone`)]);
  });

  it('deletes the volumes still loose, leaves one attached since, and counts one already gone as done', async () => {
    ec2 = mockEc2();
    const [instance] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    const [kept, attachedSince, gone] = ec2.state.volumes.seed(3, { tags: volumeTags(CLUSTER_ID) });
    const provider = providerOver(ec2);
    const found = await provider.findLooseVolumes();
    ec2.state.volumes.attach(attachedSince!, instance!);
    await provider.deleteVolumes([gone!]);

    await provider.deleteVolumes(found.map((volume) => volume.id));

    expect(ec2.state.volumes.all().map((volume) => volume.VolumeId)).toEqual([attachedSince]);
    expect(ec2.inputsOf('DeleteVolume').map((input) => input.VolumeId)).toEqual([gone, kept]);
  });

  it('is asked again when EC2 throttles the describe', async () => {
    ec2 = mockEc2();
    ec2.state.volumes.seed(2, { tags: volumeTags(CLUSTER_ID) });
    ec2.fail({ command: 'DescribeVolumes', error: ec2Errors.throttled() });

    const volumes = await new RetryingMachineProvider(providerOver(ec2), noWait).findLooseVolumes();

    expect(volumes).toHaveLength(2);
    expect(ec2.callsOf('DescribeVolumes')).toBe(2);
  });
});

describe('the sweep’s orphan pass over EC2', () => {
  const sweep = useSweepHarness();
  const { h } = sweep;
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('terminates orphan instances, running and stopped, and deletes loose volumes after the grace and not before; never a foreign instance or an attached volume', async () => {
    ec2 = mockEc2();
    const launched = h.testStore.clock.now();
    const destroyed = await h.seedCluster('finished');
    for (const to of ['DESTROYING', 'DESTROYED'] as const) {
      await h.testStore.store.transition(destroyed.id, {
        name: destroyed.name,
        from: to === 'DESTROYING' ? ['CREATING'] : ['DESTROYING'],
        to,
        event: { step: 'test', message: to },
      });
    }
    const unknown = 'c-00000000000000aa';
    const running = ec2.state.seed(2, {
      ...launchedByBilbo(unknown),
      state: 'running',
      launchTime: launched,
    });
    const stopped = ec2.state.seed(1, {
      ...launchedByBilbo(destroyed.id),
      state: 'stopped',
      launchTime: launched,
    });
    const foreign = Object.values(foreignInstances(ec2, unknown));
    const [loose] = ec2.state.volumes.seed(1, { tags: volumeTags(unknown), createTime: launched });
    const [attached] = ec2.state.volumes.seed(1, { tags: volumeTags(unknown), attachedTo: foreign[0]! });
    const provider = new RetryingMachineProvider(providerOver(ec2), noWait);
    const deps = sweep.deps({ provider });

    h.testStore.clock.advance(REAPER_DEFAULTS.orphanGraceSeconds * 1000 - 1_000);
    expect(await sweepClusters(deps)).toMatchObject({ orphansRemoved: 0, errors: 0 });
    expect(ec2.callsOf('TerminateInstances') + ec2.callsOf('DeleteVolume')).toBe(0);

    h.testStore.clock.advance(1_000);
    const report = await sweepClusters(deps);

    expect(report).toMatchObject({ orphansRemoved: 4, errors: 0 });
    const removals = report.actions.filter((action) => action.action === 'remove');
    expect(removals.map((action) => [action.cluster, action.reason.split(' (')[0]])).toEqual([
      [unknown, `reaped: orphan worker ${running[0]}`],
      [unknown, `reaped: orphan worker ${running[1]}`],
      ['finished', `reaped: orphan worker ${stopped[0]}`],
      [unknown, `reaped: orphan volume ${loose}`],
    ]);
    expect(ec2.inputsOf('TerminateInstances').flatMap((input) => input.InstanceIds)).toEqual([
      ...running,
      ...stopped,
    ]);
    for (const id of [...running, ...stopped]) {
      expect(['shutting-down', 'terminated']).toContain(ec2.state.instance(id).State?.Name);
    }
    for (const id of foreign) expect(ec2.state.instance(id).State?.Name).toBe('running');
    expect(ec2.state.volumes.all().map((volume) => volume.VolumeId)).toEqual([attached]);
    const events = await h.testStore.store.events(destroyed.id);
    expect(events.at(-1)).toMatchObject({
      step: 'reaper',
      message: expect.stringMatching(
        /^reaped: orphan worker \S+ \(stopped, launched 15 min ago\): its cluster has been DESTROYED for 15 min$/,
      ),
    });
  });
});
