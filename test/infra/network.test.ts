import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthesize } from './synth.ts';
import {
  actionsOf,
  arnText,
  entries,
  functionId,
  managedPoliciesOf,
  render,
  resourcesIn,
  roleOf,
  statementsOf,
  statementsOfRole,
} from './template-iam.ts';

const PROBE = 'lambdas/handlers/tasks/probe-ready.ts';
const RESTART_FAILED = 'lambdas/handlers/tasks/record-restart-failed.ts';
const LAUNCH = 'lambdas/handlers/tasks/launch-role.ts';
const SWEEP = 'lambdas/handlers/tasks/sweep.ts';

type Properties = Record<string, unknown>;

function propertiesOf(synth: Synthesized, type: string): Properties[] {
  return Object.values(synth.template.findResources(type)).map(
    (resource) => resource.Properties as Properties,
  );
}

/** The id of the one security group whose description starts with `prefix`. */
function securityGroupId(synth: Synthesized, prefix: string): string {
  const found = Object.entries(synth.template.findResources('AWS::EC2::SecurityGroup')).filter(([, group]) =>
    (group.Properties.GroupDescription as string).startsWith(prefix),
  );
  expect(found).toHaveLength(1);
  return found[0]![0];
}

/** Every ingress rule of a group, inline or separate, as `source → port range`. */
function ingressOf(synth: Synthesized, groupId: string): string[] {
  const group = synth.template.toJSON().Resources[groupId].Properties;
  const separate = propertiesOf(synth, 'AWS::EC2::SecurityGroupIngress').filter(
    (rule) => render(rule.GroupId) === `<${groupId}.GroupId>`,
  );
  return [...(group.SecurityGroupIngress ?? []), ...separate].map(
    (rule: Properties) =>
      `${render(rule.CidrIp ?? rule.CidrIpv6 ?? rule.SourceSecurityGroupId)} → ${rule.IpProtocol}:${rule.FromPort}-${rule.ToPort}`,
  );
}

/** Every egress rule of a group, inline or separate, as `destination → port range`. */
function egressOf(synth: Synthesized, groupId: string): string[] {
  const group = synth.template.toJSON().Resources[groupId].Properties;
  const separate = propertiesOf(synth, 'AWS::EC2::SecurityGroupEgress').filter(
    (rule) => render(rule.GroupId) === `<${groupId}.GroupId>`,
  );
  return [...(group.SecurityGroupEgress ?? []), ...separate].map(
    (rule: Properties) =>
      `${render(rule.CidrIp ?? rule.DestinationPrefixListId ?? rule.DestinationSecurityGroupId)} → ${rule.IpProtocol}:${rule.FromPort}-${rule.ToPort}`,
  );
}

describe('BilboStack network, created', () => {
  let synth: Synthesized;
  let cluster: string;
  let probe: string;

  beforeAll(() => {
    synth = synthesize();
    cluster = securityGroupId(synth, 'bilbo cluster instances');
    probe = securityGroupId(synth, 'bilbo readiness probe');
  });
  afterAll(() => synth.cleanup());

  it('is one VPC with a public subnet in each of 2 AZs and no NAT gateway', () => {
    synth.template.resourceCountIs('AWS::EC2::VPC', 1);
    synth.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const subnets = propertiesOf(synth, 'AWS::EC2::Subnet');

    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) expect(subnet.MapPublicIpOnLaunch).toBe(true);
    expect(new Set(subnets.map((subnet) => render(subnet.AvailabilityZone))).size).toBe(2);
  });

  it('reaches DynamoDB through a gateway endpoint on every subnet route table', () => {
    const [endpoint, ...others] = propertiesOf(synth, 'AWS::EC2::VPCEndpoint').filter(
      (candidate) => candidate.VpcEndpointType === 'Gateway',
    );

    expect(others).toEqual([]);
    expect(render(endpoint!.ServiceName)).toBe('com.amazonaws.<AWS::Region>.dynamodb');
    expect((endpoint!.RouteTableIds as unknown[]).map(render)).toEqual([
      expect.stringMatching(/Subnet1RouteTable/),
      expect.stringMatching(/Subnet2RouteTable/),
    ]);
  });

  it('reaches SSM (notebook tokens) through an interface endpoint in one subnet that only the probe may use', () => {
    const interfaces = propertiesOf(synth, 'AWS::EC2::VPCEndpoint').filter(
      (candidate) => candidate.VpcEndpointType === 'Interface',
    );
    const endpoint = interfaces.find((candidate) => render(candidate.ServiceName).endsWith('.ssm'));
    const endpointGroup = securityGroupId(synth, 'bilbo: the SSM endpoint');

    expect(interfaces.map((candidate) => render(candidate.ServiceName)).sort()).toEqual(
      ['ec2', 'ssm', 'states'].map((service) => `com.amazonaws.<AWS::Region>.${service}`),
    );
    expect(render(endpoint!.ServiceName)).toBe('com.amazonaws.<AWS::Region>.ssm');
    expect(endpoint!.PrivateDnsEnabled).toBe(true);
    expect((endpoint!.SubnetIds as unknown[]).map(render)).toEqual([expect.stringMatching(/Subnet1Subnet/)]);
    expect((endpoint!.SecurityGroupIds as unknown[]).map(render)).toEqual([`<${endpointGroup}.GroupId>`]);
    expect(ingressOf(synth, endpointGroup)).toEqual([`<${probe}.GroupId> → tcp:443-443`]);
  });

  it('reaches EC2 and Step Functions (the reaper) through interface endpoints in one subnet that only the probe group may use', () => {
    const endpoints = propertiesOf(synth, 'AWS::EC2::VPCEndpoint').filter((candidate) =>
      /\.(ec2|states)$/.test(render(candidate.ServiceName)),
    );
    const endpointGroup = securityGroupId(synth, 'bilbo: the EC2 and Step Functions endpoints');

    expect(endpoints).toHaveLength(2);
    for (const endpoint of endpoints) {
      expect(endpoint.PrivateDnsEnabled).toBe(true);
      expect((endpoint.SubnetIds as unknown[]).map(render)).toEqual([expect.stringMatching(/Subnet1Subnet/)]);
      expect((endpoint.SecurityGroupIds as unknown[]).map(render)).toEqual([`<${endpointGroup}.GroupId>`]);
    }
    expect(ingressOf(synth, endpointGroup)).toEqual([`<${probe}.GroupId> → tcp:443-443`]);
  });

  it('logs the traffic it rejects', () => {
    expect(propertiesOf(synth, 'AWS::EC2::FlowLog')).toEqual([
      expect.objectContaining({ ResourceType: 'VPC', TrafficType: 'REJECT' }),
    ]);
  });

  it('lets cluster instances talk to each other on any TCP port and the probe reach 8787 and 8888', () => {
    expect(ingressOf(synth, cluster).sort()).toEqual(
      [
        `<${cluster}.GroupId> → tcp:0-65535`,
        `<${probe}.GroupId> → tcp:8787-8787`,
        `<${probe}.GroupId> → tcp:8888-8888`,
      ].sort(),
    );
  });

  it('lets the probe out only to the dashboards and to HTTPS (the DynamoDB, SSM, EC2 and Step Functions endpoints alone answer there)', () => {
    const endpointGroup = securityGroupId(synth, 'bilbo: the SSM endpoint');
    const reaperEndpoints = securityGroupId(synth, 'bilbo: the EC2 and Step Functions endpoints');
    expect(egressOf(synth, probe).sort()).toEqual(
      [
        `0.0.0.0/0 → tcp:443-443`,
        `<${endpointGroup}.GroupId> → tcp:443-443`,
        `<${reaperEndpoints}.GroupId> → tcp:443-443`,
        `<${cluster}.GroupId> → tcp:8787-8787`,
        `<${cluster}.GroupId> → tcp:8888-8888`,
      ].sort(),
    );
    expect(ingressOf(synth, probe)).toEqual([]);
  });

  it("runs only the probe, the restart's last look and the reaper's sweep in the VPC, in the cluster subnets with the probe security group", () => {
    const inVpc = entries(synth.template).filter(
      (entry) => synth.template.toJSON().Resources[functionId(synth.template, entry)].Properties.VpcConfig,
    );

    expect(inVpc.sort()).toEqual([PROBE, RESTART_FAILED, SWEEP].sort());
    for (const entry of inVpc) {
      const fn = synth.template.toJSON().Resources[functionId(synth.template, entry)].Properties;
      expect(fn.VpcConfig.SecurityGroupIds.map(render)).toEqual([`<${probe}.GroupId>`]);
      expect(fn.VpcConfig.SubnetIds.map(render)).toEqual([
        expect.stringMatching(/Subnet1Subnet/),
        expect.stringMatching(/Subnet2Subnet/),
      ]);
    }
  });

  it("lets Lambda manage the probe's network interfaces, creating them only in its subnets with its group", () => {
    const role = roleOf(synth.template, PROBE);
    const eni = statementsOfRole(synth.template, role).filter((statement) =>
      actionsOf(statement).some((action) =>
        /NetworkInterface|PrivateIpAddresses|DescribeSubnets/.test(action),
      ),
    );

    expect(managedPoliciesOf(synth.template, role)).toEqual([]);
    expect(eni.map((statement) => [actionsOf(statement), resourcesIn(statement)])).toEqual([
      [['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], ['*']],
      [
        ['ec2:CreateNetworkInterface'],
        [
          arnText('ec2', 'network-interface/*'),
          expect.stringMatching(/:subnet\/<NetworkVpcClustersSubnet1Subnet\w+>$/),
          expect.stringMatching(/:subnet\/<NetworkVpcClustersSubnet2Subnet\w+>$/),
          arnText('ec2', `security-group/<${probe}.GroupId>`),
        ],
      ],
      [
        ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        [arnText('ec2', 'network-interface/*')],
      ],
    ]);
    for (const statement of eni) expect(statement.Condition).toBeUndefined();
  });

  it('attaches no AWS managed policy to any function, and AWSLambdaVPCAccessExecutionRole to no role', () => {
    const roles = synth.template.findResources('AWS::IAM::Role');
    const functionRoles = entries(synth.template).map((entry) => roleOf(synth.template, entry));

    for (const role of functionRoles) expect(managedPoliciesOf(synth.template, role), role).toEqual([]);
    for (const role of Object.keys(roles)) {
      expect(managedPoliciesOf(synth.template, role)).not.toContain(
        'service-role/AWSLambdaVPCAccessExecutionRole',
      );
    }
  });

  it('lets no CIDR reach the Dask ports unless told to', () => {
    const rules = propertiesOf(synth, 'AWS::EC2::SecurityGroup').flatMap(
      (group) => (group.SecurityGroupIngress ?? []) as Properties[],
    );

    expect(rules.filter((rule) => rule.CidrIp || rule.CidrIpv6)).toEqual([]);
  });
});

describe('BilboStack network, configured', () => {
  const VPC = 'vpc-0123456789abcdef0';
  const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'];
  const DYNAMODB_PREFIX_LIST = 'pl-0123456789abcdef0';
  const SSM_ENDPOINT_GROUP = 'sg-0fedcba9876543210';
  const REAPER_ENDPOINT_GROUPS = ['sg-0aaaabbbbccccdddd', 'sg-0eeeeffff00001111'];
  let synth: Synthesized;
  let cluster: string;
  let probe: string;

  beforeAll(() => {
    synth = synthesize({
      context: {
        'bilbo:vpcId': VPC,
        'bilbo:subnetIds': SUBNETS.join(','),
        'bilbo:availabilityZones': 'eu-west-1a,eu-west-1b',
        'bilbo:dynamoDbPrefixListId': DYNAMODB_PREFIX_LIST,
        'bilbo:ssmEndpointSecurityGroupId': SSM_ENDPOINT_GROUP,
        'bilbo:reaperEndpointSecurityGroupIds': REAPER_ENDPOINT_GROUPS.join(','),
        'bilbo:allowedCidrs': '203.0.113.0/24, 2001:db8::/32',
        'bilbo:defaultAmi': 'ami-0123456789abcdef0',
        'bilbo:tableDeletionProtection': 'false',
      },
    });
    cluster = securityGroupId(synth, 'bilbo cluster instances');
    probe = securityGroupId(synth, 'bilbo readiness probe');
  });
  afterAll(() => synth.cleanup());

  it('imports the VPC without a lookup and creates none', () => {
    const assembly = synth.app.synth();

    expect(assembly.manifest.missing ?? []).toEqual([]);
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::VPCEndpoint', 'AWS::EC2::FlowLog']) {
      synth.template.resourceCountIs(type, 0);
    }
    for (const group of propertiesOf(synth, 'AWS::EC2::SecurityGroup')) expect(group.VpcId).toBe(VPC);
  });

  it('runs the probe and launches instances in the given subnets', () => {
    const probeFn = synth.template.toJSON().Resources[functionId(synth.template, PROBE)].Properties;
    const inputs = statementsOf(synth.template, LAUNCH).find(
      (statement) =>
        ([] as string[]).concat(statement.Action).includes('ec2:RunInstances') &&
        resourcesIn(statement).some((arn) => arn.includes(':subnet/')),
    );

    expect(probeFn.VpcConfig.SubnetIds).toEqual(SUBNETS);
    expect(resourcesIn(inputs!).filter((arn) => arn.includes(':subnet/'))).toEqual(
      SUBNETS.map((subnet) => arnText('ec2', `subnet/${subnet}`)),
    );
  });

  it("lets the probe out only to the dashboards and, on 443, to DynamoDB's prefix list and the VPC's SSM, EC2 and Step Functions endpoints", () => {
    expect(egressOf(synth, probe).sort()).toEqual(
      [
        `${DYNAMODB_PREFIX_LIST} → tcp:443-443`,
        `${SSM_ENDPOINT_GROUP} → tcp:443-443`,
        ...REAPER_ENDPOINT_GROUPS.map((group) => `${group} → tcp:443-443`),
        `<${cluster}.GroupId> → tcp:8787-8787`,
        `<${cluster}.GroupId> → tcp:8888-8888`,
      ].sort(),
    );
  });

  it('opens exactly the scheduler, dashboard and Jupyter ports to each allowed CIDR', () => {
    const fromCidrs = ingressOf(synth, cluster).filter((rule) => !rule.startsWith('<'));

    expect(fromCidrs.sort()).toEqual(
      ['203.0.113.0/24', '2001:db8::/32']
        .flatMap((cidr) => [8786, 8787, 8888].map((port) => `${cidr} → tcp:${port}-${port}`))
        .sort(),
    );
    expect(ingressOf(synth, probe)).toEqual([]);
  });

  it('tells every function that launches or looks at instances the subnets and the default image', () => {
    const functions = Object.values(synth.template.findResources('AWS::Lambda::Function')).filter(
      (fn) => 'CLUSTER_SUBNET_IDS' in fn.Properties.Environment.Variables,
    );

    // The api, launch-role, check-machines, rollback-create, terminate-machines, the four pause and
    // resume steps that stop or start machines, and the sweep.
    expect(functions).toHaveLength(10);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        CLUSTER_SUBNET_IDS: SUBNETS.join(','),
        DEFAULT_AMI: 'ami-0123456789abcdef0',
      });
    }
  });

  it('leaves the table unprotected when told to', () => {
    expect(propertiesOf(synth, 'AWS::DynamoDB::GlobalTable')).toEqual([
      expect.objectContaining({
        Replicas: [expect.objectContaining({ DeletionProtectionEnabled: false })],
      }),
    ]);
  });

  it('passes the AwsSolutions checks', () => {
    expect(() => synth.app.synth({ force: true })).not.toThrow();
  });
});
