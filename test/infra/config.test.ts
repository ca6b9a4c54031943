import { describe, expect, it } from 'vitest';
import { ContextError, stackPropsFromContext } from '../../infra/app.ts';

const from = (context: Record<string, unknown>) => stackPropsFromContext((key) => context[key]);

describe('stackPropsFromContext', () => {
  it('configures nothing when no bilbo:* key is set', () => {
    expect(from({})).toEqual({});
  });

  it('reads every key, splitting comma-separated lists and trimming their items', () => {
    expect(
      from({
        'bilbo:vpcId': 'vpc-0123',
        'bilbo:subnetIds': 'subnet-a, subnet-b',
        'bilbo:availabilityZones': 'eu-west-1a,eu-west-1b',
        'bilbo:dynamoDbPrefixListId': ' pl-0123456789abcdef0 ',
        'bilbo:ssmEndpointSecurityGroupId': 'sg-0123456789abcdef0',
        'bilbo:reaperEndpointSecurityGroupIds': 'sg-0aaa, sg-0bbb',
        'bilbo:allowedCidrs': '203.0.113.0/24,2001:db8::/32',
        'bilbo:allowedSecurityGroups': 'sg-0a1b2c3d4e5f60718, sg-0f0e',
        'bilbo:adminPrincipals': 'arn:aws:iam::123456789012:role/data-team',
        'bilbo:defaultAmi': 'ami-0123456789abcdef0',
        'bilbo:tableDeletionProtection': 'false',
      }),
    ).toEqual({
      existingVpc: {
        vpcId: 'vpc-0123',
        subnetIds: ['subnet-a', 'subnet-b'],
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      },
      dynamoDbPrefixListId: 'pl-0123456789abcdef0',
      ssmEndpointSecurityGroupId: 'sg-0123456789abcdef0',
      reaperEndpointSecurityGroupIds: ['sg-0aaa', 'sg-0bbb'],
      allowedCidrs: ['203.0.113.0/24', '2001:db8::/32'],
      allowedSecurityGroupIds: ['sg-0a1b2c3d4e5f60718', 'sg-0f0e'],
      adminPrincipals: ['arn:aws:iam::123456789012:role/data-team'],
      defaultAmi: 'ami-0123456789abcdef0',
      tableDeletionProtection: false,
    });
  });

  it('reads the admins, who may change any cluster besides its owner', () => {
    expect(
      from({ 'bilbo:admins': 'arn:aws:iam::123456789012:role/ops, arn:aws:iam::123456789012:user/alice' }),
    ).toEqual({ admins: ['arn:aws:iam::123456789012:role/ops', 'arn:aws:iam::123456789012:user/alice'] });
  });

  it('reads how long a destroy may wait, as a string or a number', () => {
    expect(from({ 'bilbo:destroyTimeoutSeconds': '900' })).toEqual({ destroyTimeoutSeconds: 900 });
    expect(from({ 'bilbo:destroyTimeoutSeconds': 1200 })).toEqual({ destroyTimeoutSeconds: 1200 });
  });

  it("reads the reaper's period in minutes and its settings in seconds (or looks)", () => {
    expect(
      from({
        'bilbo:reapEvery': '10',
        'bilbo:maxLifetimeCeiling': 86_400,
        'bilbo:pausedMaxAge': '604800',
        'bilbo:orphanGrace': '1800',
        'bilbo:unknownLooksBeforeFailed': 0,
      }),
    ).toEqual({
      reapEveryMinutes: 10,
      reaper: {
        maxLifetimeCeilingSeconds: 86_400,
        pausedMaxAgeSeconds: 604_800,
        orphanGraceSeconds: 1800,
        unknownLooksBeforeFailed: 0,
      },
    });
  });

  it('names the reaper key and its range when a value is out of it', () => {
    expect(() => from({ 'bilbo:reapEvery': '0' })).toThrow(
      'bilbo:reapEvery: "0" is not a whole number of minutes from 1 to 1440',
    );
    expect(() => from({ 'bilbo:orphanGrace': 30 })).toThrow(
      'bilbo:orphanGrace: 30 is not a whole number of seconds from 60 to 86400',
    );
  });

  it('takes lists as JSON arrays and flags as booleans, as cdk.json gives them', () => {
    expect(
      from({ 'bilbo:allowedCidrs': ['10.0.0.0/8', '192.168.0.0/16'], 'bilbo:tableDeletionProtection': true }),
    ).toEqual({ allowedCidrs: ['10.0.0.0/8', '192.168.0.0/16'], tableDeletionProtection: true });
  });

  it.each([
    ['subnets without a VPC', { 'bilbo:subnetIds': 'subnet-a' }],
    ['a VPC without subnets', { 'bilbo:vpcId': 'vpc-0123', 'bilbo:availabilityZones': 'eu-west-1a' }],
    ['a VPC without zones', { 'bilbo:vpcId': 'vpc-0123', 'bilbo:subnetIds': 'subnet-a' }],
    [
      'three subnets over two zones',
      {
        'bilbo:vpcId': 'vpc-0123',
        'bilbo:subnetIds': 'subnet-a,subnet-b,subnet-c',
        'bilbo:availabilityZones': 'eu-west-1a,eu-west-1b',
      },
    ],
    ['a VPC id that is not one', { 'bilbo:vpcId': 'my-vpc' }],
    ['a CIDR that is not one', { 'bilbo:allowedCidrs': '10.0.0.0/33' }],
    ['the whole IPv4 internet', { 'bilbo:allowedCidrs': '10.0.0.0/8,0.0.0.0/0' }],
    ['the whole IPv6 internet', { 'bilbo:allowedCidrs': '::/0' }],
    ['the whole IPv4 internet in two halves', { 'bilbo:allowedCidrs': '0.0.0.0/1,128.0.0.0/1' }],
    ['an IPv4 network wider than /8', { 'bilbo:allowedCidrs': '10.0.0.0/7' }],
    ['an IPv6 network wider than /32', { 'bilbo:allowedCidrs': '2000::/16' }],
    ['a security group named, not given by id', { 'bilbo:allowedSecurityGroups': 'default' }],
    ['a principal that is not an IAM user or role', { 'bilbo:adminPrincipals': 'alice' }],
    [
      'an admin that is not an IAM user or role',
      { 'bilbo:admins': 'arn:aws:sts::123456789012:assumed-role/a/b' },
    ],
    ['an image id that is not one', { 'bilbo:defaultAmi': 'ubuntu-22.04' }],
    [
      'a prefix list id that is not one',
      { 'bilbo:dynamoDbPrefixListId': 'com.amazonaws.eu-west-1.dynamodb' },
    ],
    [
      "an imported VPC whose probe HTTPS is narrowed to DynamoDB, without SSM's endpoint",
      {
        'bilbo:vpcId': 'vpc-0123',
        'bilbo:subnetIds': 'subnet-a',
        'bilbo:availabilityZones': 'eu-west-1a',
        'bilbo:dynamoDbPrefixListId': 'pl-0123456789abcdef0',
      },
    ],
    ["an SSM endpoint's group without the prefix list", { 'bilbo:ssmEndpointSecurityGroupId': 'sg-0123' }],
    [
      "an imported VPC whose probe HTTPS is narrowed to DynamoDB, without the reaper's endpoints",
      {
        'bilbo:vpcId': 'vpc-0123',
        'bilbo:subnetIds': 'subnet-a',
        'bilbo:availabilityZones': 'eu-west-1a',
        'bilbo:dynamoDbPrefixListId': 'pl-0123456789abcdef0',
        'bilbo:ssmEndpointSecurityGroupId': 'sg-0123',
      },
    ],
    [
      "the reaper's endpoint groups without the prefix list",
      { 'bilbo:reaperEndpointSecurityGroupIds': 'sg-0123' },
    ],
    ['a flag that is not true or false', { 'bilbo:tableDeletionProtection': 'yes' }],
    ['a destroy timeout below a minute', { 'bilbo:destroyTimeoutSeconds': '30' }],
    ['a destroy timeout that is not a number', { 'bilbo:destroyTimeoutSeconds': '10m' }],
    ['a reaper period given as a duration', { 'bilbo:reapEvery': '5m' }],
    ['a reaper period of a fraction of a minute', { 'bilbo:reapEvery': 0.5 }],
    ['a reaper period over a day', { 'bilbo:reapEvery': 1441 }],
    ['a negative lifetime ceiling', { 'bilbo:maxLifetimeCeiling': -1 }],
    ['a paused_max_age over a year', { 'bilbo:pausedMaxAge': 31_536_001 }],
    ['an orphan grace under a minute, which could take a create in flight', { 'bilbo:orphanGrace': '59' }],
    ['unknown looks that are not a whole number', { 'bilbo:unknownLooksBeforeFailed': '2.5' }],
  ])('refuses %s', (_what, context) => {
    expect(() => from(context)).toThrow(ContextError);
  });
});
