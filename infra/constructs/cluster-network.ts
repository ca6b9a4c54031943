import { Annotations } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  type ISubnet,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { allKindPorts } from '../../lambdas/domain/kinds/index.ts';
import type { FunctionVpcPlacement } from './bilbo-function.ts';

/** A VPC that exists already, described well enough to import without a lookup (synth stays offline). */
export interface ExistingVpc {
  readonly vpcId: string;
  /** The subnets the clusters (and the readiness probe) run in. */
  readonly subnetIds: readonly string[];
  /** The subnets' availability zones; the subnet count must be a multiple of it. */
  readonly availabilityZones: readonly string[];
}

export interface ClusterNetworkProps {
  /**
   * Run in this VPC instead of creating one.
   * @default - a new VPC: 2 AZs, public subnets only, no NAT gateway, a DynamoDB gateway endpoint
   */
  readonly existingVpc?: ExistingVpc;
  /**
   * IPv4 or IPv6 CIDRs that may reach the ports of the clusters' services (each kind's own).
   * @default - none: only the cluster's own instances and the readiness probe
   */
  readonly allowedCidrs?: readonly string[];
  /**
   * The region's AWS-managed DynamoDB prefix list (`com.amazonaws.<region>.dynamodb`, pl-…): the
   * only destination of the probe's HTTPS. It holds DynamoDB's addresses whichever way the
   * subnets reach it (a gateway endpoint or a NAT gateway).
   * @default - 443 to any IPv4 address: in the created VPC only the DynamoDB gateway endpoint answers there
   */
  readonly dynamoDbPrefixListId?: string;
  /**
   * In an imported VPC whose probe HTTPS is narrowed to DynamoDB (`dynamoDbPrefixListId`): the
   * security group of the VPC's SSM interface endpoint, where the probe reads notebooks' tokens.
   * @default - none: the probe reaches SSM the way it reaches DynamoDB
   */
  readonly ssmEndpointSecurityGroupId?: string;
  /**
   * Likewise: the security groups of the VPC's EC2 and Step Functions interface endpoints,
   * where the reaper's sweep looks at instances and starts workflows.
   * @default - none: the sweep reaches them the way the probe reaches DynamoDB
   */
  readonly reaperEndpointSecurityGroupIds?: readonly string[];
}

/**
 * Where clusters run: the VPC (created or imported), the cluster security
 * group every instance carries, and the probe security group the readiness
 * probe Lambda carries.
 */
export class ClusterNetwork extends Construct {
  readonly vpc: IVpc;
  /** The subnets clusters are launched into (the provider uses the first). */
  readonly subnets: readonly ISubnet[];
  /** A cluster's instances with each other on any TCP port, the probe on the probed ports, allowed CIDRs on the kinds' ports. */
  readonly clusterSecurityGroup: SecurityGroup;
  /** The readiness probe: out to the cluster's probed ports, and to DynamoDB and SSM on 443. */
  readonly probeSecurityGroup: SecurityGroup;
  /** Whether the subnets are public (the created VPC's are): a Lambda in them needs `allowPublicSubnet`. */
  readonly publicSubnets: boolean;

  constructor(scope: Construct, id: string, props: ClusterNetworkProps = {}) {
    super(scope, id);
    if (props.existingVpc) {
      const { vpcId, subnetIds, availabilityZones } = props.existingVpc;
      this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId,
        availabilityZones: [...availabilityZones],
        privateSubnetIds: [...subnetIds],
      });
      this.subnets = this.vpc.privateSubnets;
      this.publicSubnets = false;
      Annotations.of(this).acknowledgeWarning(
        '@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'bilbo adds no routes to a VPC it imports, so it never reads their route tables',
      );
    } else {
      this.vpc = this.createVpc();
      this.subnets = this.vpc.publicSubnets;
      this.publicSubnets = true;
    }

    this.clusterSecurityGroup = new SecurityGroup(this, 'ClusterSecurityGroup', {
      vpc: this.vpc,
      description: 'bilbo cluster instances',
      // Instances reach SSM (agent, secrets), git hosts and whatever users' init commands fetch.
      allowAllOutbound: true,
    });
    this.clusterSecurityGroup.addIngressRule(
      this.clusterSecurityGroup,
      Port.allTcp(),
      'instances of one cluster talk to each other on any TCP port',
    );
    // The ports every cluster kind's users reach (lambdas/domain/kinds), from their one definition.
    const ports = allKindPorts();
    for (const cidr of props.allowedCidrs ?? []) {
      const peer = cidr.includes(':') ? Peer.ipv6(cidr) : Peer.ipv4(cidr);
      for (const port of ports) {
        this.clusterSecurityGroup.addIngressRule(
          peer,
          Port.tcp(port.number),
          `${port.description}, port ${port.number}, from ${cidr}`,
        );
      }
    }

    this.probeSecurityGroup = new SecurityGroup(this, 'ProbeSecurityGroup', {
      vpc: this.vpc,
      description: 'bilbo readiness probe: the dashboard and notebook of each cluster',
      allowAllOutbound: false,
    });
    for (const port of ports.filter((candidate) => candidate.probed)) {
      this.clusterSecurityGroup.connections.allowFrom(
        this.probeSecurityGroup,
        Port.tcp(port.number),
        `bilbo readiness probe to ${port.description}, port ${port.number}`,
      );
    }
    // The probe records what it sees in the clusters table. CloudFormation cannot name the prefix
    // list of the gateway endpoint it creates, and looking it up would take a network call at synth
    // or a custom-resource Lambda; without it, 443 to any IPv4 address. In the created VPC that is
    // DynamoDB alone: no NAT gateway, no public IP on the Lambda, nothing else in the VPC listening
    // to the probe on 443. In an imported VPC it is whatever the subnets route to.
    this.probeSecurityGroup.addEgressRule(
      props.dynamoDbPrefixListId ? Peer.prefixList(props.dynamoDbPrefixListId) : Peer.anyIpv4(),
      Port.tcp(443),
      props.dynamoDbPrefixListId ? "DynamoDB over HTTPS (the region's prefix list)" : 'DynamoDB over HTTPS',
    );
    // The probe presents each notebook's token, which it reads from SSM Parameter Store.
    if (!props.existingVpc) {
      this.addSsmEndpoint();
      this.addReaperEndpoints();
    } else if (props.ssmEndpointSecurityGroupId) {
      this.probeSecurityGroup.addEgressRule(
        Peer.securityGroupId(props.ssmEndpointSecurityGroupId),
        Port.tcp(443),
        "the VPC's SSM endpoint over HTTPS (notebook tokens)",
      );
    }
    for (const group of props.existingVpc ? (props.reaperEndpointSecurityGroupIds ?? []) : []) {
      this.probeSecurityGroup.addEgressRule(
        Peer.securityGroupId(group),
        Port.tcp(443),
        "the VPC's EC2 or Step Functions endpoint over HTTPS (the reaper)",
      );
    }
  }

  /**
   * The created VPC has no NAT gateway, so the probe reaches SSM through an
   * interface endpoint that only the probe may use. One subnet is enough
   * (the probe reaches it from either zone) and halves its hourly cost.
   */
  private addSsmEndpoint(): void {
    const endpointSecurityGroup = new SecurityGroup(this, 'SsmEndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'bilbo: the SSM endpoint the readiness probe reads notebook tokens through',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.connections.allowFrom(
      this.probeSecurityGroup,
      Port.tcp(443),
      'the readiness probe reads notebook tokens',
    );
    this.vpc.addInterfaceEndpoint('Ssm', {
      service: InterfaceVpcEndpointAwsService.SSM,
      subnets: { subnets: [this.subnets[0] as ISubnet] },
      securityGroups: [endpointSecurityGroup],
      privateDnsEnabled: true,
      open: false,
    });
  }

  /**
   * The reaper's sweep runs where the probe does (probePlacement) and also
   * looks at and removes instances (EC2), and starts and looks at workflows
   * (Step Functions): the created VPC reaches both through interface
   * endpoints that only the probe's group may use, in one subnet, as SSM's.
   * An imported VPC's subnets must reach them on their own.
   */
  private addReaperEndpoints(): void {
    const endpointSecurityGroup = new SecurityGroup(this, 'ReaperEndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'bilbo: the EC2 and Step Functions endpoints the reaper sweeps through',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.connections.allowFrom(
      this.probeSecurityGroup,
      Port.tcp(443),
      'the reaper looks at instances and workflows',
    );
    for (const [id, service] of [
      ['Ec2', InterfaceVpcEndpointAwsService.EC2],
      ['StepFunctions', InterfaceVpcEndpointAwsService.STEP_FUNCTIONS],
    ] as const) {
      this.vpc.addInterfaceEndpoint(id, {
        service,
        subnets: { subnets: [this.subnets[0] as ISubnet] },
        securityGroups: [endpointSecurityGroup],
        privateDnsEnabled: true,
        open: false,
      });
    }
  }

  /** The subnet ids (the functions get them, comma-separated, as CLUSTER_SUBNET_IDS). */
  get subnetIds(): string[] {
    return this.subnets.map((subnet) => subnet.subnetId);
  }

  get clusterSecurityGroupId(): string {
    return this.clusterSecurityGroup.securityGroupId;
  }

  /**
   * The probe's placement: the cluster subnets, with the probe security
   * group. The probe (and the reaper's sweep, which looks at the services
   * as it does, see addReaperEndpoints) are the only functions in the VPC: it reads the
   * probed ports (dashboards, notebooks) on the instances' private addresses through the
   * security groups, the clusters table through the VPC's DynamoDB
   * gateway endpoint, and notebooks' tokens through its SSM interface
   * endpoint. It needs nothing else, so the created VPC's public
   * subnets without a NAT gateway are enough: a Lambda gets no public IP
   * there, which is why CDK wants `allowPublicSubnet` said out loud. In an
   * imported VPC its subnets must reach DynamoDB and SSM on their own
   * (endpoints or a NAT gateway).
   */
  get probePlacement(): FunctionVpcPlacement {
    return {
      vpc: this.vpc,
      subnets: this.subnets,
      securityGroups: [this.probeSecurityGroup],
      allowPublicSubnet: this.publicSubnets,
    };
  }

  private createVpc(): Vpc {
    const vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Clusters', subnetType: SubnetType.PUBLIC, cidrMask: 20 }],
      // Nothing here uses the default security group; restricting it would take a custom-resource Lambda.
      restrictDefaultSecurityGroup: false,
      gatewayEndpoints: {
        // Free, and the only way the in-VPC probe reaches the table without a NAT gateway. Its
        // policy stays open: users' own code on the instances may use their own tables.
        DynamoDb: {
          service: GatewayVpcEndpointAwsService.DYNAMODB,
          subnets: [{ subnetType: SubnetType.PUBLIC }],
        },
      },
    });
    // Rejected traffic only: it shows who knocks on the clusters' ports, without billing for every shuffle.
    vpc.addFlowLog('RejectedTraffic', {
      trafficType: FlowLogTrafficType.REJECT,
      destination: FlowLogDestination.toCloudWatchLogs(
        new LogGroup(this, 'RejectedTrafficLogs', { retention: RetentionDays.ONE_MONTH }),
      ),
    });
    return vpc;
  }
}
