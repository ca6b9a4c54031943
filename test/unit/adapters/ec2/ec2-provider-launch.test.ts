import { afterEach, describe, expect, it } from 'vitest';
import { ProviderBusyError, ProvisioningError, ValidationError } from '../../../../lambdas/domain/errors.ts';
import {
  EC2_TEST_CONFIG,
  type Ec2Mock,
  ec2Errors,
  MOCK_AMI,
  MOCK_CLUSTER_SG,
  MOCK_DEPLOYMENT_ID,
  MOCK_PROFILE_SG,
  MOCK_ROOT_DEVICE,
  MOCK_SUBNET,
  mockEc2,
} from '../../../support/ec2-mock.ts';
import { CLUSTER_ID, OWNER, providerOver, renderUserData, workerLaunch } from './launch-fixtures.ts';

const OUR_TAGS = [
  { Key: 'team', Value: 'data' },
  { Key: 'bilbo:cluster-id', Value: CLUSTER_ID },
  { Key: 'bilbo:cluster', Value: 'analytics' },
  { Key: 'bilbo:role', Value: 'worker' },
  { Key: 'bilbo:owner', Value: OWNER },
  { Key: 'bilbo:managed', Value: MOCK_DEPLOYMENT_ID },
  { Key: 'bilbo:first-index', Value: '0' },
  { Key: 'Name', Value: 'bilbo-analytics-worker' },
];

describe('Ec2MachineProvider.launch', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('asks EC2 for all the role’s instances in one all-or-nothing, idempotent RunInstances call', async () => {
    ec2 = mockEc2();
    const request = workerLaunch();

    await providerOver(ec2).launch(request);

    expect(ec2.inputsOf('RunInstances')).toEqual([
      {
        ImageId: MOCK_AMI,
        InstanceType: 'c5.2xlarge',
        MinCount: 3,
        MaxCount: 3,
        ClientToken: `${CLUSTER_ID}-worker`,
        KeyName: 'bilbo-key',
        SubnetId: MOCK_SUBNET,
        SecurityGroupIds: [MOCK_CLUSTER_SG, MOCK_PROFILE_SG],
        IamInstanceProfile: { Arn: EC2_TEST_CONFIG.instanceProfileArn },
        MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
        InstanceInitiatedShutdownBehavior: 'terminate',
        UserData: Buffer.from(renderUserData(request)).toString('base64'),
        BlockDeviceMappings: [
          {
            DeviceName: MOCK_ROOT_DEVICE,
            Ebs: { VolumeSize: 50, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
          },
        ],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: OUR_TAGS },
          { ResourceType: 'volume', Tags: OUR_TAGS },
        ],
      },
    ]);
  });

  it('answers the launched instances as machines, indexed from the request’s first index', async () => {
    ec2 = mockEc2();

    const machines = await providerOver(ec2).launch(workerLaunch({ firstIndex: 4 }));

    const launched = ec2.state.all();
    expect(machines).toEqual(
      launched.map((instance, i) => ({
        id: instance.InstanceId,
        clusterId: CLUSTER_ID,
        role: 'worker',
        index: 4 + i,
        state: 'pending',
        privateIp: instance.PrivateIpAddress,
      })),
    );
    expect(machines).toHaveLength(3);
  });

  it('launches 1,000 workers with exactly one RunInstances call', async () => {
    ec2 = mockEc2();

    const machines = await providerOver(ec2).launch(workerLaunch({ count: 1_000 }));

    expect(ec2.callsOf('RunInstances')).toBe(1);
    expect(ec2.inputsOf('RunInstances')[0]).toMatchObject({ MinCount: 1_000, MaxCount: 1_000 });
    expect(new Set(machines.map((machine) => machine.id)).size).toBe(1_000);
    expect(machines.at(-1)?.index).toBe(999);
  });

  it('answers what EC2 launched when it launched fewer than asked', async () => {
    ec2 = mockEc2();
    ec2.state.launchOnlyNext(2);

    const machines = await providerOver(ec2).launch(workerLaunch({ count: 5 }));

    expect(machines.map((machine) => machine.index)).toEqual([0, 1]);
  });

  it('looks up an image’s root device once, and maps an encrypted root volume even when it is not sized', async () => {
    ec2 = mockEc2();
    const provider = providerOver(ec2);

    await provider.launch(workerLaunch());
    await provider.launch(workerLaunch({ role: 'scheduler', count: 1, idempotencyToken: 'c-1-scheduler' }));
    const unsized = workerLaunch({ idempotencyToken: 'c-1-notebook', role: 'notebook', count: 1 });
    const { vol_size: _, ...instance } = unsized.instance;
    await provider.launch({ ...unsized, instance });

    expect(ec2.inputsOf('DescribeImages')).toEqual([{ ImageIds: [MOCK_AMI] }]);
    expect(ec2.inputsOf('RunInstances')[2]?.BlockDeviceMappings).toEqual([
      {
        DeviceName: MOCK_ROOT_DEVICE,
        Ebs: { VolumeSize: 8, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
      },
    ]);
  });

  it('uses the deployment’s default AMI when the profile names none', async () => {
    ec2 = mockEc2();
    const { ami: _, ...instance } = workerLaunch().instance;

    await providerOver(ec2, { defaultAmi: MOCK_AMI }).launch(workerLaunch({ instance }));

    expect(ec2.inputsOf('RunInstances')[0]?.ImageId).toBe(MOCK_AMI);
  });

  it('refuses a launch with no AMI at all, naming the field, before calling EC2', async () => {
    ec2 = mockEc2();
    const { ami: _, ...instance } = workerLaunch().instance;

    const launch = providerOver(ec2).launch(workerLaunch({ instance }));

    await expect(launch).rejects.toThrow(ValidationError);
    await expect(launch).rejects.toMatchObject({ field: 'instance.ami' });
    expect(ec2.callsOf('RunInstances')).toBe(0);
  });

  it('fails with AWS’s message when EC2 has no capacity for the workers', async () => {
    ec2 = mockEc2();
    ec2.fail({ command: 'RunInstances', error: ec2Errors.insufficientCapacity('c5.2xlarge') });

    const launch = providerOver(ec2).launch(workerLaunch());

    await expect(launch).rejects.toThrow(ProvisioningError);
    await expect(launch).rejects.toThrow(
      /We currently do not have sufficient c5\.2xlarge capacity in the Availability Zone you requested \(eu-west-1a\)/,
    );
  });

  it('reports throttling as a busy provider, to be retried above it', async () => {
    ec2 = mockEc2({ faults: [{ command: 'RunInstances', error: ec2Errors.throttled() }] });

    await expect(providerOver(ec2).launch(workerLaunch())).rejects.toThrow(ProviderBusyError);
  });

  it('names the profile field when EC2 does not know the image', async () => {
    ec2 = mockEc2();
    const request = workerLaunch();

    const launch = providerOver(ec2).launch({
      ...request,
      instance: { ...request.instance, ami: 'ami-0badbadbadbadbad0', vol_size: undefined },
    });

    await expect(launch).rejects.toThrow(ValidationError);
    await expect(launch).rejects.toMatchObject({ field: 'instance.ami' });
  });

  it('answers the first call’s instances when the same token launches again', async () => {
    ec2 = mockEc2();
    const provider = providerOver(ec2);

    const first = await provider.launch(workerLaunch());
    const again = await provider.launch(workerLaunch());

    expect(again.map((machine) => machine.id)).toEqual(first.map((machine) => machine.id));
    expect(ec2.state.all()).toHaveLength(3);
  });
});
