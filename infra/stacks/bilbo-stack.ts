import { CfnOutput, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EC2, environmentOf, SECRETS } from '../../lambdas/config.ts';
import type { ReaperSettings } from '../../lambdas/domain/reaper/rules.ts';
import { ClusterApi } from '../constructs/cluster-api.ts';
import { ClusterInstanceRole } from '../constructs/cluster-instance-role.ts';
import { ClusterNetwork, type ExistingVpc } from '../constructs/cluster-network.ts';
import { SECRETS_PREFIX } from '../constructs/cluster-secrets.ts';
import { ClusterTable } from '../constructs/cluster-table.ts';
import { ClusterWorkflows } from '../constructs/cluster-workflows.ts';
import { MachineAccess } from '../constructs/machine-access.ts';
import { ReaperSchedule } from '../constructs/reaper-schedule.ts';

export interface BilboStackProps extends StackProps {
  /**
   * Protect the clusters table from deletion.
   * @default true
   */
  readonly tableDeletionProtection?: boolean;
  /**
   * Run clusters (and the readiness probe) in this VPC.
   * @default - a new VPC: 2 AZs, public subnets only, no NAT gateway, a DynamoDB gateway endpoint
   */
  readonly existingVpc?: ExistingVpc;
  /**
   * The region's AWS-managed DynamoDB prefix list (`com.amazonaws.<region>.dynamodb`, pl-…): the
   * readiness probe may reach it alone on 443.
   * @default - 443 to any IPv4 address: in the created VPC only the DynamoDB gateway endpoint answers there
   */
  readonly dynamoDbPrefixListId?: string;
  /**
   * With an imported VPC and `dynamoDbPrefixListId`: its SSM interface endpoint's security group,
   * where the probe reads notebooks' tokens.
   * @default - none
   */
  readonly ssmEndpointSecurityGroupId?: string;
  /**
   * Likewise: the security groups of its EC2 and Step Functions interface endpoints, where the
   * reaper's sweep looks at instances and starts workflows.
   * @default - none
   */
  readonly reaperEndpointSecurityGroupIds?: readonly string[];
  /**
   * CIDRs that may reach the clusters' ports: for Dask, the scheduler (8786), the dashboard (8787) and Jupyter (8888).
   * @default - none: only the clusters' own instances and the readiness probe
   */
  readonly allowedCidrs?: readonly string[];
  /**
   * IAM principal ARNs that alone may call the API.
   * @default - any principal of the account whose IAM policies allow it (see the ApiUserPolicyArn output)
   */
  readonly adminPrincipals?: readonly string[];
  /**
   * IAM user or role ARNs that may change any cluster, besides its owner.
   * @default - none: only a cluster's owner may change it
   */
  readonly admins?: readonly string[];
  /**
   * The image for profiles that name no `ami`.
   * @default - none: every profile must name its image
   */
  readonly defaultAmi?: string;
  /**
   * Security groups a profile may add to the cluster's own (`instance.security_group`).
   * @default - none: instances run with the cluster security group only
   */
  readonly allowedSecurityGroupIds?: string[];
  /**
   * How long a destroy may wait for every instance to be gone before it records FAILED.
   * @default DESTROY_TIMEOUT_SECONDS.default (600)
   */
  readonly destroyTimeoutSeconds?: number;
  /**
   * How often the reaper sweeps, in whole minutes.
   * @default REAP_EVERY_MINUTES (5)
   */
  readonly reapEveryMinutes?: number;
  /**
   * The reaper's settings (a lifetime ceiling, paused_max_age, the orphans' grace, ...).
   * @default REAPER_DEFAULTS
   */
  readonly reaper?: Partial<ReaperSettings>;
}

/** The reaper sweeps every 5 minutes by default. */
export const REAP_EVERY_MINUTES = 5;

/**
 * One bilbo deployment: the clusters table, the workflows, the signed API,
 * the reaper's schedule, and where clusters run (network, instance role).
 */
export class BilboStack extends Stack {
  readonly table: ClusterTable;
  readonly network: ClusterNetwork;
  readonly instanceRole: ClusterInstanceRole;
  readonly workflows: ClusterWorkflows;
  readonly api: ClusterApi;

  constructor(scope: Construct, id: string, props: BilboStackProps = {}) {
    super(scope, id, props);
    this.table = new ClusterTable(this, 'Clusters', { deletionProtection: props.tableDeletionProtection });
    this.network = new ClusterNetwork(this, 'Network', {
      existingVpc: props.existingVpc,
      allowedCidrs: props.allowedCidrs,
      dynamoDbPrefixListId: props.dynamoDbPrefixListId,
      ssmEndpointSecurityGroupId: props.ssmEndpointSecurityGroupId,
      reaperEndpointSecurityGroupIds: props.reaperEndpointSecurityGroupIds,
    });
    this.instanceRole = new ClusterInstanceRole(this, 'InstanceRole');
    // The stack's UUID, the last part of its id: unique to this deployment, stable across updates.
    const deploymentId = Fn.select(2, Fn.split('/', this.stackId));
    const machines = new MachineAccess({
      instanceRole: this.instanceRole.role,
      instanceProfileArn: this.instanceRole.instanceProfileArn,
      deploymentId,
      subnets: this.network.subnets,
      securityGroupIds: [this.network.clusterSecurityGroupId, ...(props.allowedSecurityGroupIds ?? [])],
      ec2Environment: environmentOf(EC2, {
        subnetIds: Fn.join(',', this.network.subnetIds),
        securityGroupId: this.network.clusterSecurityGroupId,
        instanceProfileArn: this.instanceRole.instanceProfileArn,
        deploymentId,
        allowedSecurityGroupIds: props.allowedSecurityGroupIds?.join(','),
        defaultAmi: props.defaultAmi,
      }),
      secretsEnvironment: environmentOf(SECRETS, { prefix: SECRETS_PREFIX }),
    });
    this.workflows = new ClusterWorkflows(this, 'Workflows', {
      table: this.table,
      machines,
      network: this.network,
      destroyTimeoutSeconds: props.destroyTimeoutSeconds,
      reaper: props.reaper,
    });
    new ReaperSchedule(this, 'ReaperSchedule', {
      sweep: this.workflows.stateMachines.sweep,
      every: Duration.minutes(props.reapEveryMinutes ?? REAP_EVERY_MINUTES),
    });
    this.api = new ClusterApi(this, 'Api', {
      table: this.table,
      workflows: this.workflows,
      machines,
      adminPrincipals: props.adminPrincipals,
      admins: props.admins,
    });

    // RestApi always outputs its URL; give that output a stable name instead of adding a second one.
    const endpoint = this.api.api.node.findChild('Endpoint') as CfnOutput;
    endpoint.overrideLogicalId('ApiUrl');
    endpoint.description = 'The bilbo API (SigV4, execute-api)';
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'The clusters table' });
    new CfnOutput(this, 'ClusterSecurityGroupId', {
      value: this.network.clusterSecurityGroupId,
      description: 'The security group on every cluster instance',
    });
    new CfnOutput(this, 'InstanceProfileArn', {
      value: this.instanceRole.instanceProfileArn,
      description: 'The instance profile cluster instances run with',
    });
    new CfnOutput(this, 'ApiUserPolicyArn', {
      value: this.api.userPolicy.managedPolicyArn,
      description: "Attach to bilbo's users: execute-api:Invoke on the API",
    });
  }
}
