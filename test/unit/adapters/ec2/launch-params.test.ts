import { describe, expect, it } from 'vitest';
import {
  imageIdOf,
  instanceName,
  launchTags,
  runInstancesInput,
} from '../../../../lambdas/adapters/ec2/launch-params.ts';
import { ValidationError } from '../../../../lambdas/domain/errors.ts';
import { EC2_TEST_CONFIG, MOCK_CLUSTER_SG } from '../../../support/ec2-mock.ts';
import { workerLaunch } from './launch-fixtures.ts';

describe('launchTags', () => {
  it('keeps the profile’s tags but lets bilbo’s win, and drops the aws: keys EC2 refuses', () => {
    const tags = launchTags(workerLaunch());

    expect(tags.filter((tag) => tag.Key === 'Name')).toEqual([
      { Key: 'Name', Value: 'bilbo-analytics-worker' },
    ]);
    expect(tags.filter((tag) => tag.Key === 'bilbo:role')).toEqual([{ Key: 'bilbo:role', Value: 'worker' }]);
    expect(tags.some((tag) => tag.Key?.startsWith('aws:'))).toBe(false);
    expect(tags[0]).toEqual({ Key: 'team', Value: 'data' });
  });
});

describe('instanceName', () => {
  it('is the prefix, the cluster and the role', () => {
    expect(instanceName({ instancePrefix: 'ml-', clusterName: 'nightly', role: 'scheduler' })).toBe(
      'ml-nightly-scheduler',
    );
    expect(instanceName({ clusterName: 'nightly', role: 'notebook' })).toBe('nightly-notebook');
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

describe('runInstancesInput', () => {
  it('makes a dry run without a client token', () => {
    const input = runInstancesInput(workerLaunch(), EC2_TEST_CONFIG, {
      dryRun: true,
      rootDeviceName: '/dev/xvda',
    });

    expect(input.DryRun).toBe(true);
    expect(input).not.toHaveProperty('ClientToken');
    expect(input).not.toHaveProperty('UserData');
  });

  it('puts the cluster security group on alone when the profile names none, and no key pair', () => {
    const request = workerLaunch();
    const { security_group: _s, keyname: _k, vol_size: _v, ...instance } = request.instance;

    const input = runInstancesInput({ ...request, instance }, EC2_TEST_CONFIG);

    expect(input.SecurityGroupIds).toEqual([MOCK_CLUSTER_SG]);
    expect(input).not.toHaveProperty('KeyName');
    expect(input).not.toHaveProperty('BlockDeviceMappings');
  });
});
