import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  EC2,
  environmentOf,
  PROBE,
  REAPER,
  readConfig,
  SECRETS,
  SWEEP_WORKFLOW_ARNS,
  stateMachineArnVariable,
  TABLE,
  WORKFLOW_ARNS,
} from '../../lambdas/config.ts';
import { REAPER_DEFAULTS } from '../../lambdas/domain/reaper/rules.ts';
import { WORKFLOW_NAMES } from '../../lambdas/domain/workflows.ts';

const EC2_ENV = {
  CLUSTER_SUBNET_IDS: 'subnet-0a, subnet-0b',
  CLUSTER_SECURITY_GROUP_ID: 'sg-0a1b',
  INSTANCE_PROFILE_ARN: 'arn:aws:iam::123456789012:instance-profile/bilbo',
  DEPLOYMENT_ID: '5e0f4a70-9d2b-11f1-8c3e-06a1b2c3d4e5',
};

describe('readConfig', () => {
  it('reads a section, trimming values and splitting lists', () => {
    expect(readConfig(EC2, EC2_ENV)).toEqual({
      subnetIds: ['subnet-0a', 'subnet-0b'],
      securityGroupId: 'sg-0a1b',
      instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/bilbo',
      deploymentId: EC2_ENV.DEPLOYMENT_ID,
      allowedSecurityGroupIds: [],
      defaultAmi: undefined,
    });
  });

  it('stops at a missing variable, naming it and what it must be', () => {
    expect(() => readConfig(TABLE, {})).toThrow(ConfigurationError);
    expect(() => readConfig(TABLE, {})).toThrow('TABLE_NAME is not set: it must be the clusters table name');
  });

  it('stops at a malformed value, naming the variable and the value', () => {
    expect(() => readConfig(EC2, { ...EC2_ENV, CLUSTER_SECURITY_GROUP_ID: 'default' })).toThrow(
      'CLUSTER_SECURITY_GROUP_ID=default is not a security group id (sg-…)',
    );
    expect(() => readConfig(EC2, { ...EC2_ENV, CLUSTER_SUBNET_IDS: 'subnet-0a,vpc-1' })).toThrow(
      'CLUSTER_SUBNET_IDS: "vpc-1" is not one of comma-separated subnet ids',
    );
    expect(() => readConfig(SECRETS, { SECRETS_PREFIX: 'bilbo/clusters' })).toThrow(ConfigurationError);
  });

  it('checks an optional value only when it is set', () => {
    expect(readConfig(EC2, { ...EC2_ENV, DEFAULT_AMI: 'ami-0abc' }).defaultAmi).toBe('ami-0abc');
    expect(() => readConfig(EC2, { ...EC2_ENV, DEFAULT_AMI: 'image' })).toThrow('DEFAULT_AMI=image');
  });

  it('gives numbers their defaults and refuses what is not a whole number in range, never a NaN', () => {
    expect(readConfig(PROBE, {})).toEqual({ network: 'private', budgetMs: 55_000, intervalMs: 1_000 });
    expect(readConfig(PROBE, { PROBE_BUDGET_MS: '2000', PROBE_NETWORK: 'public' })).toMatchObject({
      budgetMs: 2_000,
      network: 'public',
    });
    for (const bad of ['soon', '1.5', '-1', '1e9', 'NaN']) {
      expect(() => readConfig(PROBE, { PROBE_BUDGET_MS: bad }), bad).toThrow(
        `PROBE_BUDGET_MS=${bad} is not a whole number from 1000 to 840000`,
      );
    }
    expect(() => readConfig(PROBE, { PROBE_NETWORK: 'internet' })).toThrow(
      'PROBE_NETWORK=internet is not one of private, public',
    );
  });
});

describe('the workflow ARNs', () => {
  it('name one variable per registered workflow', () => {
    expect(WORKFLOW_NAMES.map(stateMachineArnVariable)).toEqual([
      'CREATE_STATE_MACHINE_ARN',
      'DESTROY_STATE_MACHINE_ARN',
      'RESTART_STATE_MACHINE_ARN',
      'PAUSE_STATE_MACHINE_ARN',
      'RESUME_STATE_MACHINE_ARN',
      'SWEEP_STATE_MACHINE_ARN',
    ]);
    expect(Object.keys(WORKFLOW_ARNS)).toEqual(WORKFLOW_NAMES);
  });

  it('read as state machine ARNs', () => {
    const arn = (name: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`;

    expect(
      readConfig(WORKFLOW_ARNS, {
        CREATE_STATE_MACHINE_ARN: arn('create'),
        DESTROY_STATE_MACHINE_ARN: arn('destroy'),
        RESTART_STATE_MACHINE_ARN: arn('restart'),
        PAUSE_STATE_MACHINE_ARN: arn('pause'),
        RESUME_STATE_MACHINE_ARN: arn('resume'),
        SWEEP_STATE_MACHINE_ARN: arn('sweep'),
      }),
    ).toEqual({
      create: arn('create'),
      destroy: arn('destroy'),
      restart: arn('restart'),
      pause: arn('pause'),
      resume: arn('resume'),
      sweep: arn('sweep'),
    });
    expect(() => readConfig(WORKFLOW_ARNS, { CREATE_STATE_MACHINE_ARN: arn('create') })).toThrow(
      'DESTROY_STATE_MACHINE_ARN is not set',
    );
  });
});

describe("the sweep's workflow ARNs", () => {
  it('are those of the workflows a sweep starts, never its own', () => {
    expect(Object.keys(SWEEP_WORKFLOW_ARNS)).toEqual(['destroy', 'pause']);
  });
});

describe("the reaper's settings", () => {
  it('default to REAPER_DEFAULTS, one variable each', () => {
    expect(readConfig(REAPER, {})).toEqual(REAPER_DEFAULTS);
  });

  it('read each setting from its variable', () => {
    expect(
      readConfig(REAPER, {
        REAPER_MAX_LIFETIME_CEILING_SECONDS: '86400',
        REAPER_PAUSED_MAX_AGE_SECONDS: '604800',
        REAPER_STUCK_GRACE_SECONDS: '0',
        REAPER_ORPHAN_GRACE_SECONDS: '3600',
        REAPER_UNKNOWN_LOOKS_BEFORE_FAILED: '0',
      }),
    ).toEqual({
      maxLifetimeCeilingSeconds: 86_400,
      pausedMaxAgeSeconds: 604_800,
      stuckGraceSeconds: 0,
      orphanGraceSeconds: 3600,
      unknownLooksBeforeFailed: 0,
    });
  });

  it('refuse a value out of its range, naming the variable and the range', () => {
    expect(() => readConfig(REAPER, { REAPER_ORPHAN_GRACE_SECONDS: '10' })).toThrow(
      'REAPER_ORPHAN_GRACE_SECONDS=10 is not a whole number from 60 to 86400',
    );
    expect(() => readConfig(REAPER, { REAPER_PAUSED_MAX_AGE_SECONDS: '-1' })).toThrow(ConfigurationError);
    expect(() => readConfig(REAPER, { REAPER_UNKNOWN_LOOKS_BEFORE_FAILED: '2.5' })).toThrow(
      ConfigurationError,
    );
  });
});

describe('environmentOf', () => {
  it('names the variables that give a function these values, leaving unset ones out', () => {
    expect(environmentOf(EC2, { subnetIds: 'subnet-0a', defaultAmi: undefined })).toEqual({
      CLUSTER_SUBNET_IDS: 'subnet-0a',
    });
  });

  it('writes what readConfig reads back', () => {
    const environment = environmentOf(EC2, {
      subnetIds: 'subnet-0a',
      securityGroupId: 'sg-0b',
      instanceProfileArn: EC2_ENV.INSTANCE_PROFILE_ARN,
      deploymentId: EC2_ENV.DEPLOYMENT_ID,
      allowedSecurityGroupIds: 'sg-0c,sg-0d',
      defaultAmi: 'ami-0c',
    });

    expect(readConfig(EC2, environment)).toEqual({
      subnetIds: ['subnet-0a'],
      securityGroupId: 'sg-0b',
      instanceProfileArn: EC2_ENV.INSTANCE_PROFILE_ARN,
      deploymentId: EC2_ENV.DEPLOYMENT_ID,
      allowedSecurityGroupIds: ['sg-0c', 'sg-0d'],
      defaultAmi: 'ami-0c',
    });
  });
});
