import type { Instance } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { toMachine } from '../../../../lambdas/adapters/ec2/ec2-provider.ts';
import { ProviderBusyError } from '../../../../lambdas/domain/errors.ts';
import {
  type Ec2Mock,
  ec2Errors,
  launchedByBilbo,
  MOCK_DEPLOYMENT_ID,
  mockEc2,
  type SeedOptions,
} from '../../../support/ec2-mock.ts';
import { CLUSTER_ID, providerOver, workerLaunch } from './launch-fixtures.ts';

describe('Ec2MachineProvider.describe', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('describes 2,500 instances in one call per 1,000 ids', async () => {
    ec2 = mockEc2();
    const ids = ec2.state.seed(2_500, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });

    const machines = await providerOver(ec2).describe(ids);

    const inputs = ec2.inputsOf('DescribeInstances');
    expect(inputs.map((input) => input.InstanceIds?.length)).toEqual([1_000, 1_000, 500]);
    expect(inputs.flatMap((input) => input.InstanceIds ?? [])).toEqual(ids);
    expect(machines.map((machine) => machine.id)).toEqual(ids);
    expect(machines.every((machine) => machine.state === 'running' && machine.clusterId === CLUSTER_ID)).toBe(
      true,
    );
  });

  it('asks again by instance-id filter, 200 at a time, when EC2 does not list an id yet', async () => {
    ec2 = mockEc2({ unseenDescribes: 2 });
    const known = ec2.state.seed(300, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    const [fresh] = (await providerOver(ec2).launch(workerLaunch({ count: 1 }))).map((machine) => machine.id);

    const machines = await providerOver(ec2).describe([fresh!, ...known]);

    const inputs = ec2.inputsOf('DescribeInstances');
    expect(inputs[0]?.InstanceIds).toHaveLength(301);
    expect(inputs.slice(1).map((input) => input.Filters?.[0]?.Values?.length)).toEqual([200, 101]);
    expect(machines.find((machine) => machine.id === fresh)).toMatchObject({
      state: 'terminated',
      unseen: true,
    });
    expect(machines.filter((machine) => machine.state === 'running')).toHaveLength(300);
  });

  it('follows NextToken until EC2 has answered every page', async () => {
    ec2 = mockEc2({ pageSize: 80 });
    ec2.state.seed(200, launchedByBilbo(CLUSTER_ID));

    const machines = await providerOver(ec2).findByCluster(CLUSTER_ID);

    const inputs = ec2.inputsOf('DescribeInstances');
    expect(inputs).toHaveLength(3);
    expect(inputs[0]).not.toHaveProperty('NextToken');
    expect(inputs[1]?.NextToken).toEqual(expect.any(String));
    expect(inputs[2]?.NextToken).toEqual(expect.any(String));
    expect(inputs[2]?.NextToken).not.toBe(inputs[1]?.NextToken);
    expect(machines).toHaveLength(200);
  });

  it('answers an instance EC2 does not know as terminated', async () => {
    ec2 = mockEc2();
    const [gone, kept] = ec2.state.seed(2, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    ec2.state.forget(gone!);

    const machines = await providerOver(ec2).describe([gone!, kept!, 'i-0ffffffffffffffff']);

    expect(machines.map(({ id, state, stateReason }) => ({ id, state, stateReason }))).toEqual([
      { id: gone, state: 'terminated', stateReason: 'unknown to EC2' },
      { id: kept, state: 'running', stateReason: undefined },
      { id: 'i-0ffffffffffffffff', state: 'terminated', stateReason: 'unknown to EC2' },
    ]);
  });

  it('answers a just-launched instance EC2 does not show yet as unknown to EC2, then as it is', async () => {
    // One describe is the call by id that EC2 refuses, the other the call by filter that skips the id.
    ec2 = mockEc2({ unseenDescribes: 2 });
    const provider = providerOver(ec2);
    const [machine] = await provider.launch(workerLaunch({ count: 1 }));

    const first = await provider.describe([machine!.id]);
    const second = await provider.describe([machine!.id]);

    expect(first[0]).toMatchObject({ state: 'terminated', stateReason: 'unknown to EC2', unseen: true });
    expect(second[0]).toMatchObject({ state: 'running', clusterId: CLUSTER_ID });
  });

  it('sees a new instance pending for a few describes, then running with a public IP', async () => {
    ec2 = mockEc2({ bootDescribes: 3 });
    const provider = providerOver(ec2);
    const [machine] = await provider.launch(workerLaunch({ count: 1 }));

    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await provider.describe([machine!.id]))[0]!);

    expect(seen.map((m) => m.state)).toEqual(['pending', 'pending', 'running', 'running']);
    expect(seen[0]?.publicIp).toBeUndefined();
    expect(seen[2]?.publicIp).toMatch(/^203\.0\.\d+\.\d+$/);
    expect(seen[2]).toMatchObject({ clusterId: CLUSTER_ID, role: 'worker', index: 0 });
  });

  it('says why an instance died', async () => {
    ec2 = mockEc2();
    const [id] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    ec2.state.kill(id!, 'Server.SpotInstanceTermination: Spot instance termination');

    const [machine] = await providerOver(ec2).describe([id!]);

    expect(machine).toMatchObject({
      state: 'terminated',
      stateReason: 'Server.SpotInstanceTermination: Spot instance termination',
    });
  });
});

describe('toMachine', () => {
  const instance = (State: Instance['State'], extra: Partial<Instance> = {}): Instance => ({
    InstanceId: 'i-0123456789abcdef0',
    AmiLaunchIndex: 2,
    State,
    PrivateIpAddress: '10.0.1.7',
    Tags: [
      { Key: 'bilbo:cluster-id', Value: CLUSTER_ID },
      { Key: 'bilbo:role', Value: 'scheduler' },
      { Key: 'bilbo:first-index', Value: '3' },
    ],
    ...extra,
  });

  it.each([
    ['pending', 0, 'pending'],
    ['running', 16, 'running'],
    ['stopping', 64, 'stopping'],
    ['stopped', 80, 'stopped'],
    ['shutting-down', 32, 'terminated'],
    ['terminated', 48, 'terminated'],
  ] as const)('maps EC2’s %s (code %i) to %s', (Name, Code, expected) => {
    expect(toMachine(instance({ Name, Code })).state).toBe(expected);
  });

  it('reads the state from the code’s low byte when the name is missing', () => {
    expect(toMachine(instance({ Code: 16 + 256 })).state).toBe('running');
  });

  it('takes the cluster, role and index from the tags and the launch index', () => {
    expect(toMachine(instance({ Name: 'running', Code: 16 }, { PublicIpAddress: '203.0.113.9' }))).toEqual({
      id: 'i-0123456789abcdef0',
      clusterId: CLUSTER_ID,
      role: 'scheduler',
      index: 5,
      state: 'running',
      privateIp: '10.0.1.7',
      publicIp: '203.0.113.9',
    });
  });

  it('keeps EC2’s state reason for a machine that stopped or ended', () => {
    const stopped = instance(
      { Name: 'stopped', Code: 80 },
      {
        StateReason: {
          Code: 'Client.UserInitiatedShutdown',
          Message: 'Client.UserInitiatedShutdown: User initiated shutdown',
        },
      },
    );

    expect(toMachine(stopped).stateReason).toBe('Client.UserInitiatedShutdown: User initiated shutdown');
  });
});

describe('Ec2MachineProvider.findByCluster', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('finds the cluster’s instances that are not shutting down or terminated, by tag', async () => {
    ec2 = mockEc2({ pageSize: 5 });
    const live = ec2.state.seed(7, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    const [ended] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'terminated' });
    ec2.state.seed(3, { ...launchedByBilbo('c-someone-else'), state: 'running' });

    const machines = await providerOver(ec2).findByCluster(CLUSTER_ID);

    expect(machines.map((machine) => machine.id)).toEqual(live);
    expect(machines.map((machine) => machine.id)).not.toContain(ended);
    expect(ec2.inputsOf('DescribeInstances')[0]?.Filters).toEqual([
      { Name: 'tag:bilbo:cluster-id', Values: [CLUSTER_ID] },
      { Name: 'tag:bilbo:managed', Values: [MOCK_DEPLOYMENT_ID] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
    expect(ec2.callsOf('DescribeInstances')).toBe(2);
  });
});

/** The cluster's tags on an instance bilbo did not launch, each time with one proof missing. */
function forgeries(ec2: Ec2Mock): Record<string, string> {
  const ours = launchedByBilbo(CLUSTER_ID);
  const seedOne = (options: SeedOptions) => ec2.state.seed(1, { ...options, state: 'running' })[0]!;
  return {
    'a tag saying bilbo:managed=true': seedOne({
      ...ours,
      tags: ours.tags!.map((tag) => (tag.Key === 'bilbo:managed' ? { ...tag, Value: 'true' } : tag)),
    }),
    "another deployment's tag": seedOne({
      ...ours,
      tags: ours.tags!.map((tag) =>
        tag.Key === 'bilbo:managed' ? { ...tag, Value: '0b7c9e10-9d2b-11f1-8c3e-06a1b2c3d4e5' } : tag,
      ),
    }),
    'another instance profile': seedOne({
      ...ours,
      instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/someone-elses',
    }),
    'no client token': seedOne({ tags: ours.tags!, instanceProfileArn: ours.instanceProfileArn! }),
    "another launch's client token": seedOne({ ...ours, clientToken: 'console-launch-7f3a' }),
  };
}

describe('instances carrying a cluster’s tags that bilbo did not launch', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('are not found as the cluster’s, each one reported with the reason', async () => {
    ec2 = mockEc2();
    const ours = ec2.state.seed(2, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    const forged = forgeries(ec2);
    const warnings: string[] = [];

    const machines = await providerOver(ec2, {}, (line) => warnings.push(line)).findByCluster(CLUSTER_ID);

    expect(machines.map((machine) => machine.id)).toEqual(ours);
    // The wrong tag value is filtered out by EC2; the other three are seen and refused here.
    expect(warnings).toHaveLength(3);
    for (const [what, id] of Object.entries(forged).slice(2)) {
      expect(
        warnings.some((line) => line.includes(id)),
        what,
      ).toBe(true);
    }
    expect(warnings.join('\n')).toMatch(/instance profile[\s\S]*client token[\s\S]*client token/);
  });

  it('are never terminated, even when a caller names them', async () => {
    ec2 = mockEc2();
    const ours = ec2.state.seed(2, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    const forged = Object.values(forgeries(ec2));
    const warnings: string[] = [];

    await providerOver(ec2, {}, (line) => warnings.push(line)).terminate([...forged, ...ours]);

    expect(ec2.inputsOf('TerminateInstances')).toEqual([{ InstanceIds: ours }]);
    for (const id of forged) expect(ec2.state.instance(id).State?.Name).toBe('running');
    expect(warnings).toHaveLength(forged.length);
  });

  it('do not stop a terminate of instances EC2 does not list yet', async () => {
    ec2 = mockEc2({ unseenDescribes: 5 });
    const launched = await providerOver(ec2).launch(workerLaunch({ count: 2 }));

    await providerOver(ec2).terminate(launched.map((machine) => machine.id));

    expect(ec2.inputsOf('TerminateInstances')[0]?.InstanceIds).toEqual(launched.map((m) => m.id));
  });
});

describe('Ec2MachineProvider stop, start and terminate', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('terminates every instance, and terminating again is not an error', async () => {
    ec2 = mockEc2();
    const provider = providerOver(ec2);
    const ids = ec2.state.seed(3, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });

    await provider.terminate(ids);
    await provider.terminate(ids);

    expect(ec2.inputsOf('TerminateInstances')[0]).toEqual({ InstanceIds: ids });
    expect(ec2.state.alive(CLUSTER_ID)).toEqual([]);
  });

  it('terminates the instances EC2 knows when the call names one it has forgotten', async () => {
    ec2 = mockEc2();
    const [forgotten, ...rest] = ec2.state.seed(3, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    ec2.state.forget(forgotten!);

    await providerOver(ec2).terminate([forgotten!, ...rest]);

    expect(ec2.inputsOf('TerminateInstances').at(-1)).toEqual({ InstanceIds: rest });
    expect(ec2.state.alive(CLUSTER_ID)).toEqual([]);
  });

  it('terminates 2,500 instances in calls of at most 1,000', async () => {
    ec2 = mockEc2();
    const ids = ec2.state.seed(2_500, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });

    await providerOver(ec2).terminate(ids);

    expect(ec2.inputsOf('TerminateInstances').map((input) => input.InstanceIds?.length)).toEqual([
      1_000, 1_000, 500,
    ]);
  });

  it('stops the running instances of a call that also names a terminated one', async () => {
    ec2 = mockEc2();
    const [running] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });
    const [ended] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'terminated' });

    await providerOver(ec2).stop([running!, ended!]);

    expect(ec2.state.instance(running!).State?.Name).toBe('stopping');
  });

  it('starts stopped instances, leaving running ones as they are', async () => {
    ec2 = mockEc2();
    const [stopped] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'stopped' });
    const [running] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });

    await providerOver(ec2).start([stopped!, running!]);

    expect(ec2.state.instance(stopped!).State?.Name).toBe('pending');
    expect(ec2.state.instance(running!).State?.Name).toBe('running');
  });

  it('reports an instance still stopping, asked to start, as a busy provider', async () => {
    ec2 = mockEc2();
    const [stopping] = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'stopping' });
    ec2.state.settleAfter(stopping!, 10);

    await expect(providerOver(ec2).start([stopping!])).rejects.toThrow(ProviderBusyError);
  });

  it.each([
    ['stop', 'StopInstances', 'running'],
    ['start', 'StartInstances', 'stopped'],
  ] as const)('%ss only instances bilbo launched, each foreign one reported', async (action, call, state) => {
    ec2 = mockEc2();
    const ours = ec2.state.seed(2, { ...launchedByBilbo(CLUSTER_ID), state });
    const forged = Object.values(forgeries(ec2));
    for (const id of forged) ec2.state.setState(id, state);
    const warnings: string[] = [];

    await providerOver(ec2, {}, (line) => warnings.push(line))[action]([...forged, ...ours]);

    expect(ec2.inputsOf(call)).toEqual([{ InstanceIds: ours }]);
    for (const id of forged) expect(ec2.state.instance(id).State?.Name).toBe(state);
    expect(warnings).toHaveLength(forged.length);
  });

  it('reports throttling of a terminate as a busy provider', async () => {
    ec2 = mockEc2({ faults: [{ command: 'TerminateInstances', error: ec2Errors.throttled() }] });
    const ids = ec2.state.seed(1, { ...launchedByBilbo(CLUSTER_ID), state: 'running' });

    await expect(providerOver(ec2).terminate(ids)).rejects.toThrow(ProviderBusyError);
  });
});
