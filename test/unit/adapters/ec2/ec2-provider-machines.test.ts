import type { Instance } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { toMachine } from '../../../../lambdas/adapters/ec2/ec2-provider.ts';
import { ProviderBusyError } from '../../../../lambdas/domain/errors.ts';
import { type Ec2Mock, ec2Errors, mockEc2 } from '../../../support/ec2-mock.ts';
import { CLUSTER_ID, providerOver, workerLaunch } from './launch-fixtures.ts';

const clusterTags = (clusterId: string, role = 'worker') => [
  { Key: 'bilbo:cluster-id', Value: clusterId },
  { Key: 'bilbo:role', Value: role },
  { Key: 'bilbo:first-index', Value: '0' },
];

describe('Ec2MachineProvider.describe', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('describes 2,500 instances in one call per 1,000 ids', async () => {
    ec2 = mockEc2();
    const ids = ec2.state.seed(2_500, { tags: clusterTags(CLUSTER_ID), state: 'running' });

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
    const known = ec2.state.seed(300, { tags: clusterTags(CLUSTER_ID), state: 'running' });
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
    ec2.state.seed(200, { tags: clusterTags(CLUSTER_ID) });

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
    const [gone, kept] = ec2.state.seed(2, { tags: clusterTags(CLUSTER_ID), state: 'running' });
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
    const [id] = ec2.state.seed(1, { tags: clusterTags(CLUSTER_ID), state: 'running' });
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
    const live = ec2.state.seed(7, { tags: clusterTags(CLUSTER_ID), state: 'running' });
    const [ended] = ec2.state.seed(1, { tags: clusterTags(CLUSTER_ID), state: 'terminated' });
    ec2.state.seed(3, { tags: clusterTags('c-someone-else'), state: 'running' });

    const machines = await providerOver(ec2).findByCluster(CLUSTER_ID);

    expect(machines.map((machine) => machine.id)).toEqual(live);
    expect(machines.map((machine) => machine.id)).not.toContain(ended);
    expect(ec2.inputsOf('DescribeInstances')[0]?.Filters).toEqual([
      { Name: 'tag:bilbo:cluster-id', Values: [CLUSTER_ID] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
    expect(ec2.callsOf('DescribeInstances')).toBe(2);
  });
});

describe('Ec2MachineProvider stop, start and terminate', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('terminates every instance, and terminating again is not an error', async () => {
    ec2 = mockEc2();
    const provider = providerOver(ec2);
    const ids = ec2.state.seed(3, { tags: clusterTags(CLUSTER_ID), state: 'running' });

    await provider.terminate(ids);
    await provider.terminate(ids);

    expect(ec2.inputsOf('TerminateInstances')[0]).toEqual({ InstanceIds: ids });
    expect(ec2.state.alive(CLUSTER_ID)).toEqual([]);
  });

  it('terminates the instances EC2 knows when the call names one it has forgotten', async () => {
    ec2 = mockEc2();
    const [forgotten, ...rest] = ec2.state.seed(3, { tags: clusterTags(CLUSTER_ID), state: 'running' });
    ec2.state.forget(forgotten!);

    await providerOver(ec2).terminate([forgotten!, ...rest]);

    expect(ec2.inputsOf('TerminateInstances').at(-1)).toEqual({ InstanceIds: rest });
    expect(ec2.state.alive(CLUSTER_ID)).toEqual([]);
  });

  it('terminates 2,500 instances in calls of at most 1,000', async () => {
    ec2 = mockEc2();
    const ids = ec2.state.seed(2_500, { tags: clusterTags(CLUSTER_ID), state: 'running' });

    await providerOver(ec2).terminate(ids);

    expect(ec2.inputsOf('TerminateInstances').map((input) => input.InstanceIds?.length)).toEqual([
      1_000, 1_000, 500,
    ]);
  });

  it('stops the running instances of a call that also names a terminated one', async () => {
    ec2 = mockEc2();
    const [running] = ec2.state.seed(1, { tags: clusterTags(CLUSTER_ID), state: 'running' });
    const [ended] = ec2.state.seed(1, { tags: clusterTags(CLUSTER_ID), state: 'terminated' });

    await providerOver(ec2).stop([running!, ended!]);

    expect(ec2.state.instance(running!).State?.Name).toBe('stopping');
  });

  it('starts stopped instances, leaving running ones as they are', async () => {
    ec2 = mockEc2();
    const [stopped] = ec2.state.seed(1, { tags: clusterTags(CLUSTER_ID), state: 'stopped' });
    const [running] = ec2.state.seed(1, { tags: clusterTags(CLUSTER_ID), state: 'running' });

    await providerOver(ec2).start([stopped!, running!]);

    expect(ec2.state.instance(stopped!).State?.Name).toBe('pending');
    expect(ec2.state.instance(running!).State?.Name).toBe('running');
  });

  it('reports an instance still stopping, asked to start, as a busy provider', async () => {
    ec2 = mockEc2();
    const [stopping] = ec2.state.seed(1, { tags: clusterTags(CLUSTER_ID), state: 'stopping' });

    await expect(providerOver(ec2).start([stopping!])).rejects.toThrow(ProviderBusyError);
  });

  it('reports throttling of a terminate as a busy provider', async () => {
    ec2 = mockEc2({ faults: [{ command: 'TerminateInstances', error: ec2Errors.throttled() }] });
    const ids = ec2.state.seed(1, { tags: clusterTags(CLUSTER_ID), state: 'running' });

    await expect(providerOver(ec2).terminate(ids)).rejects.toThrow(ProviderBusyError);
  });
});
