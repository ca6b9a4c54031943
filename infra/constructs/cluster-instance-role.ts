import { Aws } from 'aws-cdk-lib';
import { CfnInstanceProfile, Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { clusterParametersArn } from './cluster-secrets.ts';
import { acknowledge } from './nag.ts';

/**
 * What the SSM agent itself calls for Run Command (`bilbo rcmd`/`run`) and
 * Session Manager: AmazonSSMManagedInstanceCore without its parameter reads
 * (`ssm:GetParameter*` on `*`, which would let anything on an instance read
 * every SecureString of the account's region), inventory and patching.
 */
export const SSM_AGENT_ACTIONS = [
  'ssm:UpdateInstanceInformation',
  'ssm:ListInstanceAssociations',
  'ssm:UpdateInstanceAssociationStatus',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:SendReply',
] as const;

/** Every action that reads a parameter's value. */
export const PARAMETER_READS = [
  'ssm:GetParameter',
  'ssm:GetParameters',
  'ssm:GetParametersByPath',
  'ssm:GetParameterHistory',
] as const;

/**
 * The role every cluster instance runs as, and its instance profile: the
 * SSM agent (Run Command, Session Manager), and reading the clusters'
 * secrets (a notebook's token, a git password) at boot — and no other
 * parameter, whatever else is ever attached to the role.
 */
export class ClusterInstanceRole extends Construct {
  readonly role: Role;
  readonly instanceProfile: CfnInstanceProfile;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      description: "bilbo cluster instances: SSM agent, and the clusters' secrets",
    });
    this.role.addToPolicy(
      new PolicyStatement({ sid: 'SsmAgent', actions: [...SSM_AGENT_ACTIONS], resources: ['*'] }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        sid: 'NoOtherParameters',
        effect: Effect.DENY,
        actions: [...PARAMETER_READS],
        notResources: [clusterParametersArn(this)],
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        sid: 'ReadClusterSecrets',
        actions: ['ssm:GetParameter'],
        resources: [clusterParametersArn(this)],
      }),
    );
    // The secrets are SecureStrings under the AWS managed key aws/ssm, used only through SSM.
    // (That key's own policy already lets the account's principals decrypt via SSM; this
    // statement says so in the role, scoped to that key and that path.)
    this.role.addToPolicy(
      new PolicyStatement({
        sid: 'DecryptClusterSecrets',
        actions: ['kms:Decrypt'],
        resources: [`arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/*`],
        conditions: {
          StringEquals: { 'kms:ViaService': `ssm.${Aws.REGION}.amazonaws.com` },
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/aws/ssm' },
        },
      }),
    );
    this.instanceProfile = new CfnInstanceProfile(this, 'InstanceProfile', {
      roles: [this.role.roleName],
    });

    acknowledge(
      this.role,
      'IAM5[Resource::*]',
      'The SSM agent actions (ssm:UpdateInstanceInformation, ssmmessages:*, ec2messages:*) support no resource-level permissions; parameter reads are denied outside bilbo’s path.',
    );
    acknowledge(
      this.role,
      'IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/bilbo/clusters/*]',
      "Parameter names hold the cluster id, unknown when the role is made: instances read every bilbo cluster's " +
        'parameters (the clusters of one deployment belong to one team) and no other parameter.',
    );
    acknowledge(
      this.role,
      'IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
      'Key ARNs hold the key id, not its alias: the conditions narrow key/* to the aws/ssm key (kms:ResourceAliases), used through SSM only (kms:ViaService).',
    );
  }

  get instanceProfileArn(): string {
    return this.instanceProfile.attrArn;
  }
}
