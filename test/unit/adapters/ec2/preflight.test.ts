import { afterEach, describe, expect, it } from 'vitest';
import type { Ec2ProviderConfig } from '../../../../lambdas/adapters/ec2/launch-params.ts';
import { Ec2LaunchPreflight } from '../../../../lambdas/adapters/ec2/preflight.ts';
import { ProvisioningError, ValidationError } from '../../../../lambdas/domain/errors.ts';
import { buildPlan } from '../../../../lambdas/domain/plan.ts';
import type { Profile } from '../../../../schemas/types.generated.ts';
import {
  EC2_TEST_CONFIG,
  type Ec2Mock,
  MOCK_AMI,
  MOCK_CLUSTER_SG,
  MOCK_KEY_PAIR,
  MOCK_PROFILE_SG,
  MOCK_ROOT_DEVICE,
  mockEc2,
} from '../../../support/ec2-mock.ts';
import { fakeCatalog } from '../../domain/plan-fixtures.ts';

const OTHER_AMI = 'ami-0fedcba9876543210';

function goodProfile(): Profile {
  return {
    instance: {
      ami: MOCK_AMI,
      ec2type: 't3.medium',
      keyname: MOCK_KEY_PAIR,
      security_group: MOCK_PROFILE_SG,
      vol_size: 20,
    },
    dask: { worker: { count: 4, instance: { ec2type: 'c5.2xlarge', ami: OTHER_AMI } } },
    notebook: { instance: { ec2type: 'r5.large' } },
  };
}

async function check(ec2: Ec2Mock, profile: Profile, config: Partial<Ec2ProviderConfig> = {}) {
  const plan = await buildPlan({ name: 'analytics', profile, catalog: fakeCatalog().catalog });
  return new Ec2LaunchPreflight({ client: ec2.client, config: { ...EC2_TEST_CONFIG, ...config } }).check(
    plan,
    profile,
  );
}

const world = () =>
  mockEc2({
    images: [
      { ImageId: MOCK_AMI, RootDeviceName: MOCK_ROOT_DEVICE },
      { ImageId: OTHER_AMI, RootDeviceName: '/dev/sda1' },
    ],
  });

describe('Ec2LaunchPreflight', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('passes a good plan with one look at images, key pairs and security groups, and one dry run per role', async () => {
    ec2 = world();

    await check(ec2, goodProfile());

    expect(ec2.inputsOf('DescribeImages')).toEqual([
      { Filters: [{ Name: 'image-id', Values: [MOCK_AMI, OTHER_AMI] }], IncludeDeprecated: true },
    ]);
    expect(ec2.inputsOf('DescribeKeyPairs')).toEqual([
      { Filters: [{ Name: 'key-name', Values: [MOCK_KEY_PAIR] }] },
    ]);
    expect(ec2.inputsOf('DescribeSecurityGroups')).toEqual([
      { Filters: [{ Name: 'group-id', Values: [MOCK_PROFILE_SG, MOCK_CLUSTER_SG] }] },
    ]);
    const dryRuns = ec2.inputsOf('RunInstances');
    expect(dryRuns.map((input) => input.DryRun)).toEqual([true, true, true]);
    expect(dryRuns.every((input) => input.ClientToken === undefined)).toBe(true);
    expect(dryRuns[1]).toMatchObject({
      ImageId: OTHER_AMI,
      InstanceType: 'c5.2xlarge',
      MinCount: 4,
      MaxCount: 4,
      KeyName: MOCK_KEY_PAIR,
      SecurityGroupIds: [MOCK_CLUSTER_SG, MOCK_PROFILE_SG],
      BlockDeviceMappings: [expect.objectContaining({ DeviceName: '/dev/sda1' })],
    });
    expect(ec2.state.all()).toEqual([]);
  });

  it('names the worker’s own AMI when it does not exist', async () => {
    ec2 = mockEc2();

    const checked = check(ec2, goodProfile());

    await expect(checked).rejects.toThrow(ValidationError);
    await expect(checked).rejects.toMatchObject({
      field: 'profile.dask.worker.instance.ami',
      message: `profile.dask.worker.instance.ami: ${OTHER_AMI} does not exist in eu-west-1 (or is not shared with this account)`,
    });
    expect(ec2.callsOf('RunInstances')).toBe(0);
  });

  it('names the common key pair when it does not exist', async () => {
    ec2 = world();
    const profile = goodProfile();
    profile.instance!.keyname = 'lost-key';

    const checked = check(ec2, profile);

    await expect(checked).rejects.toThrow(ValidationError);
    await expect(checked).rejects.toMatchObject({
      field: 'profile.instance.keyname',
      message: 'profile.instance.keyname: key pair lost-key does not exist in eu-west-1',
    });
  });

  it('names the notebook’s own security group when it does not exist, with every other problem', async () => {
    ec2 = mockEc2();
    const profile = goodProfile();
    profile.notebook!.instance!.security_group = 'sg-0deadbeefdeadbeef';

    const checked = check(ec2, profile, {
      allowedSecurityGroupIds: [MOCK_PROFILE_SG, 'sg-0deadbeefdeadbeef'],
    });

    await expect(checked).rejects.toMatchObject({
      field: 'profile.dask.worker.instance.ami',
      message: expect.stringContaining(
        'profile.notebook.instance.security_group: security group sg-0deadbeefdeadbeef does not exist in eu-west-1',
      ),
    });
  });

  it('refuses a security group the deployment does not allow, before asking EC2 about it', async () => {
    ec2 = world();
    const profile = goodProfile();
    profile.dask!.worker!.instance!.security_group = 'sg-0a1b2c3d4e5f6a7b8';

    const checked = check(ec2, profile, { allowedSecurityGroupIds: [MOCK_PROFILE_SG] });

    await expect(checked).rejects.toBeInstanceOf(ValidationError);
    await expect(checked).rejects.toMatchObject({
      field: 'profile.dask.worker.instance.security_group',
      message: expect.stringContaining(
        `profile.dask.worker.instance.security_group: security group sg-0a1b2c3d4e5f6a7b8 is not one this deployment lets profiles attach (it allows only ${MOCK_PROFILE_SG}`,
      ),
    });
    expect(ec2.callsOf('DescribeSecurityGroups')).toBe(0);
    expect(ec2.inputsOf('RunInstances')).toEqual([]);
  });

  it('allows no group but the cluster’s when the deployment names none', async () => {
    ec2 = world();

    await expect(check(ec2, goodProfile(), { allowedSecurityGroupIds: [] })).rejects.toMatchObject({
      field: 'profile.instance.security_group',
      message: expect.stringContaining("(it allows none, besides the cluster's own)"),
    });
    await expect(
      check(
        ec2,
        { ...goodProfile(), instance: { ...goodProfile().instance, security_group: MOCK_CLUSTER_SG } },
        {
          allowedSecurityGroupIds: [],
        },
      ),
    ).resolves.toBeUndefined();
  });

  it('refuses a security group outside the cluster network', async () => {
    ec2 = mockEc2({
      securityGroups: [
        { GroupId: MOCK_CLUSTER_SG, VpcId: 'vpc-0b1c2d3e4f5a6b7c8' },
        { GroupId: MOCK_PROFILE_SG, VpcId: 'vpc-0elsewhere000000' },
      ],
    });
    const profile = goodProfile();
    delete profile.dask!.worker!.instance!.ami;

    await expect(check(ec2, profile)).rejects.toMatchObject({
      field: 'profile.instance.security_group',
      message: expect.stringContaining('is in vpc-0elsewhere000000'),
    });
  });

  it('asks for an AMI when neither the profile nor the deployment has one', async () => {
    ec2 = mockEc2();
    const profile = goodProfile();
    delete profile.instance!.ami;
    delete profile.dask!.worker!.instance!.ami;

    const checked = check(ec2, profile);

    await expect(checked).rejects.toThrow(ValidationError);
    await expect(checked).rejects.toMatchObject({ field: 'profile.instance.ami' });
  });

  it('checks the deployment’s default AMI for roles that name none', async () => {
    ec2 = mockEc2();
    const profile = goodProfile();
    delete profile.instance!.ami;
    delete profile.dask!.worker!.instance!.ami;

    await check(ec2, profile, { defaultAmi: MOCK_AMI });

    expect(ec2.inputsOf('RunInstances').map((input) => input.ImageId)).toEqual([
      MOCK_AMI,
      MOCK_AMI,
      MOCK_AMI,
    ]);
  });

  it('fails when bilbo may not launch the instances', async () => {
    ec2 = mockEc2({ dryRun: 'deny' });
    const profile = goodProfile();
    delete profile.dask!.worker!.instance!.ami;

    const checked = check(ec2, profile);

    await expect(checked).rejects.toThrow(ProvisioningError);
    await expect(checked).rejects.toThrow(/missing ec2:RunInstances \(or iam:PassRole/);
  });

  it('names the role’s own field when the dry run refuses its instance type', async () => {
    ec2 = mockEc2({
      instanceTypes: { 't3.medium': { vcpus: 2, cores: 1, threadsPerCore: 2, memoryMiB: 4096 } },
    });
    const profile = goodProfile();
    delete profile.dask!.worker!.instance!.ami;
    delete profile.notebook;

    const checked = check(ec2, profile);

    await expect(checked).rejects.toThrow(ValidationError);
    await expect(checked).rejects.toMatchObject({ field: 'profile.dask.worker.instance.ec2type' });
  });
});
