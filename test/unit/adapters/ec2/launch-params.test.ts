import { describe, expect, it } from 'vitest';
import {
  imageIdOf,
  instanceName,
  launchTags,
  runInstancesInput,
} from '../../../../lambdas/adapters/ec2/launch-params.ts';
import { ValidationError } from '../../../../lambdas/domain/errors.ts';
import { EC2_TEST_CONFIG, MOCK_CLUSTER_SG, MOCK_DEPLOYMENT_ID } from '../../../support/ec2-mock.ts';
import { workerLaunch } from './launch-fixtures.ts';

describe('launchTags', () => {
  it('keeps the profile’s tags but lets bilbo’s win, and drops the aws: keys EC2 refuses', () => {
    const tags = launchTags(workerLaunch(), MOCK_DEPLOYMENT_ID);

    expect(tags.filter((tag) => tag.Key === 'Name')).toEqual([
      { Key: 'Name', Value: 'bilbo-analytics-worker' },
    ]);
    expect(tags.filter((tag) => tag.Key === 'bilbo:role')).toEqual([{ Key: 'bilbo:role', Value: 'worker' }]);
    expect(tags.some((tag) => tag.Key?.startsWith('aws:'))).toBe(false);
    expect(tags[0]).toEqual({ Key: 'team', Value: 'data' });
  });

  it("marks the instance as this deployment's: bilbo:managed is the deployment id", () => {
    const tags = launchTags(
      workerLaunch({ instance: { ...workerLaunch().instance, tags: [['bilbo:managed', 'true']] } }),
      MOCK_DEPLOYMENT_ID,
    );

    expect(tags.filter((tag) => tag.Key === 'bilbo:managed')).toEqual([
      { Key: 'bilbo:managed', Value: MOCK_DEPLOYMENT_ID },
    ]);
  });
});

describe('instanceName', () => {
  it('is the prefix, the cluster, the role and the index for a launch of one instance', () => {
    expect(
      instanceName({
        instancePrefix: 'ml-',
        clusterName: 'nightly',
        role: 'scheduler',
        firstIndex: 0,
        count: 1,
      }),
    ).toBe('ml-nightly-scheduler-0');
    expect(instanceName({ clusterName: 'nightly', role: 'notebook', firstIndex: 0, count: 1 })).toBe(
      'nightly-notebook-0',
    );
  });

  it('is the role’s name, with no index, for a launch of many (each is renamed afterwards)', () => {
    expect(
      instanceName({
        instancePrefix: 'ml-',
        clusterName: 'nightly',
        role: 'worker',
        firstIndex: 0,
        count: 3,
      }),
    ).toBe('ml-nightly-worker');
  });
});

describe('imageIdOf', () => {
  it('prefers the profile’s AMI to the deployment’s default', () => {
    expect(
      imageIdOf(
        { ami: 'ami-0aaaaaaaaaaaaaaaa', init_cmd: [], tags: [] },
        { defaultAmi: 'ami-0bbbbbbbbbbbbbbbb' },
      ),
    ).toBe('ami-0aaaaaaaaaaaaaaaa');
    expect(imageIdOf({ init_cmd: [], tags: [] }, { defaultAmi: 'ami-0bbbbbbbbbbbbbbbb' })).toBe(
      'ami-0bbbbbbbbbbbbbbbb',
    );
  });

  it('asks for an AMI when there is none', () => {
    expect(() => imageIdOf({ init_cmd: [], tags: [] }, {})).toThrow(ValidationError);
  });
});

const ROOT = { name: '/dev/xvda', sizeGiB: 8 };

describe('runInstancesInput', () => {
  it('refuses a security group the deployment does not allow, even past the preflight', () => {
    const launch = workerLaunch({
      instance: { ...workerLaunch().instance, security_group: 'sg-0f0f0f0f0f0f0f0f0' },
    });

    expect(() => runInstancesInput(launch, EC2_TEST_CONFIG, { rootDevice: { name: '/dev/xvda' } })).toThrow(
      /^instance\.security_group: security group sg-0f0f0f0f0f0f0f0f0 is not one this deployment lets profiles attach/,
    );
  });

  it('makes a dry run without a client token', () => {
    const input = runInstancesInput(workerLaunch(), EC2_TEST_CONFIG, {
      dryRun: true,
      rootDevice: { name: '/dev/xvda' },
    });

    expect(input.DryRun).toBe(true);
    expect(input).not.toHaveProperty('ClientToken');
    expect(input).not.toHaveProperty('UserData');
  });

  it('puts the cluster security group on alone when the profile names none, and no key pair', () => {
    const request = workerLaunch();
    const { security_group: _s, keyname: _k, vol_size: _v, ...instance } = request.instance;

    const input = runInstancesInput({ ...request, instance }, EC2_TEST_CONFIG, { rootDevice: ROOT });

    expect(input.SecurityGroupIds).toEqual([MOCK_CLUSTER_SG]);
    expect(input).not.toHaveProperty('KeyName');
  });

  it('always maps the root volume, encrypted gp3, at the image’s size when the profile sets none', () => {
    const request = workerLaunch();
    const { vol_size: _v, ...instance } = request.instance;

    expect(
      runInstancesInput({ ...request, instance }, EC2_TEST_CONFIG, { rootDevice: ROOT }).BlockDeviceMappings,
    ).toEqual([
      {
        DeviceName: '/dev/xvda',
        Ebs: { VolumeSize: 8, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
      },
    ]);
    expect(
      runInstancesInput({ ...request, instance: { ...instance, vol_size: 100 } }, EC2_TEST_CONFIG, {
        rootDevice: ROOT,
      }).BlockDeviceMappings?.[0]?.Ebs,
    ).toMatchObject({ VolumeSize: 100, Encrypted: true });
  });

  it('asks IMDSv2 only, with a hop limit of 1', () => {
    expect(runInstancesInput(workerLaunch(), EC2_TEST_CONFIG, { rootDevice: ROOT }).MetadataOptions).toEqual({
      HttpTokens: 'required',
      HttpEndpoint: 'enabled',
      HttpPutResponseHopLimit: 1,
    });
  });
});
