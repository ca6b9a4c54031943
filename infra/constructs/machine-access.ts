import type { ISubnet } from 'aws-cdk-lib/aws-ec2';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { TAGS } from '../../lambdas/adapters/ec2/launch-params.ts';
import { RUN_SHELL_SCRIPT } from '../../lambdas/adapters/ssm/remote-commands.ts';
import { regionalArn } from './arns.ts';
import { addEnvironment } from './bilbo-function.ts';
import { clusterParametersArn } from './cluster-secrets.ts';
import { acknowledge, wildcardFinding } from './nag.ts';

export interface MachineAccessProps {
  /** The role cluster instances run as: the only role the functions may pass. */
  readonly instanceRole: IRole;
  /** Its instance profile: the functions stop, start or terminate only instances launched with it. */
  readonly instanceProfileArn: string;
  /** The deployment's id: the value of the `bilbo:managed` tag it launches with, and acts on. */
  readonly deploymentId: string;
  /** The subnets instances may be launched into. */
  readonly subnets: readonly ISubnet[];
  /** The security groups instances may be launched with: the cluster's and the allow-list (bilbo:allowedSecurityGroups). */
  readonly securityGroupIds: readonly string[];
  /** What a function that launches, looks at or terminates instances must be told (lambdas/config.ts EC2). */
  readonly ec2Environment: Readonly<Record<string, string>>;
  /** Where the secrets live (lambdas/config.ts SECRETS). */
  readonly secretsEnvironment: Readonly<Record<string, string>>;
}

/** What the functions may do to instances: start, stop or terminate (only instances bilbo tagged). */
export type InstanceAction = 'ec2:TerminateInstances' | 'ec2:StopInstances' | 'ec2:StartInstances';

const ANY_MANAGED_INSTANCE =
  "Instance ids are not known in advance: RunInstances needs the deployment's bilbo:managed request tag and IMDSv2, CreateTags works " +
  'inside RunInstances (and afterwards for the Name tag alone), and stop/start/terminate (and renaming) only on instances with the ' +
  "deployment's bilbo:managed tag that run with bilbo's instance profile.";

/**
 * The least-privilege EC2, IAM and SSM grants of the task and API
 * functions, one helper per intent, each also giving the function the
 * deployment variables its adapters are built from. Launching is allowed only with the
 * `bilbo:managed` tag at launch, and stopping or terminating only on
 * instances that carry it: the functions cannot touch anything bilbo did
 * not launch, nor tag something after the fact to make it theirs.
 */
export class MachineAccess {
  constructor(private readonly props: MachineAccessProps) {}

  /** RunInstances with bilbo's tags, in the cluster subnets, passing only the instance role; the image's root device. */
  grantLaunch(fn: LambdaFunction): void {
    addEnvironment(fn, this.props.ec2Environment);
    const managedRequest = { [`aws:RequestTag/${TAGS.managed}`]: this.props.deploymentId };
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [regionalArn('ec2', 'instance/*')],
        // IMDSv2 only: the launch parameters ask for it, and IAM refuses a launch that does not.
        conditions: { StringEquals: { ...managedRequest, 'ec2:MetadataHttpTokens': 'required' } },
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [regionalArn('ec2', 'volume/*')],
        conditions: { StringEquals: managedRequest, Bool: { 'ec2:Encrypted': 'true' } },
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ec2:RunInstances'],
        resources: [
          regionalArn('ec2', 'image/*', { account: false }),
          ...this.props.subnets.map((subnet) => regionalArn('ec2', `subnet/${subnet.subnetId}`)),
          ...this.props.securityGroupIds.map((id) => regionalArn('ec2', `security-group/${id}`)),
          regionalArn('ec2', 'key-pair/*'),
          regionalArn('ec2', 'network-interface/*'),
        ],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ec2:CreateTags'],
        resources: [regionalArn('ec2', 'instance/*'), regionalArn('ec2', 'volume/*')],
        conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.props.instanceRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    );
    this.grantDescribeOnly(fn, ['ec2:DescribeImages']);

    const role = fn.role!;
    acknowledge(role, wildcardFinding('ec2', 'instance/*'), ANY_MANAGED_INSTANCE);
    acknowledge(
      role,
      wildcardFinding('ec2', 'volume/*'),
      "Volume ids are not known before the launch: RunInstances needs the deployment's bilbo:managed request tag and an encrypted volume, CreateTags only works inside RunInstances.",
    );
    acknowledge(
      role,
      wildcardFinding('ec2', 'image/*', { account: false }),
      "A profile names any image (its own, shared or public): the image's owner is not known in advance.",
    );
    acknowledge(
      role,
      wildcardFinding('ec2', 'key-pair/*'),
      'A profile names any key pair of the account for SSH; the preflight checks it exists before any launch.',
    );
    acknowledge(
      role,
      wildcardFinding('ec2', 'network-interface/*'),
      "RunInstances creates each instance's network interface; its id is not known before the launch.",
    );
  }

  /**
   * Rename instances after their launch (each gets its own index in its
   * Name): the Name tag alone, and only on instances that carry the
   * deployment's `bilbo:managed` tag and run with bilbo's instance profile.
   * No other tag can be set or changed after a launch, so no instance can
   * be made to look like bilbo's.
   */
  grantNaming(fn: LambdaFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ec2:CreateTags'],
        resources: [regionalArn('ec2', 'instance/*')],
        conditions: {
          StringEquals: { [`ec2:ResourceTag/${TAGS.managed}`]: this.props.deploymentId },
          ArnEquals: { 'ec2:InstanceProfile': this.props.instanceProfileArn },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TAGS.name] },
        },
      }),
    );
    acknowledge(fn.role!, wildcardFinding('ec2', 'instance/*'), ANY_MANAGED_INSTANCE);
  }

  /** What a plan and the launch preflight look up: instance types, images, key pairs and security groups. */
  grantPreflight(fn: LambdaFunction): void {
    addEnvironment(fn, this.props.ec2Environment);
    this.grantDescribeOnly(fn, [
      'ec2:DescribeInstanceTypes',
      'ec2:DescribeImages',
      'ec2:DescribeKeyPairs',
      'ec2:DescribeSecurityGroups',
    ]);
  }

  /** Look at instances (by id, or by the cluster's tag). */
  grantDescribe(fn: LambdaFunction): void {
    addEnvironment(fn, this.props.ec2Environment);
    this.grantDescribeOnly(fn, ['ec2:DescribeInstances']);
  }

  /**
   * Stop, start or terminate instances that carry the deployment's
   * `bilbo:managed` tag and run with bilbo's instance profile: a tag anyone
   * with ec2:CreateTags can forge, the profile only who may pass its role.
   * The provider also checks each instance's client token before it
   * terminates (lambdas/adapters/ec2/provenance.ts).
   */
  grantInstanceActions(fn: LambdaFunction, actions: readonly InstanceAction[]): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [...actions],
        resources: [regionalArn('ec2', 'instance/*')],
        conditions: {
          StringEquals: { [`ec2:ResourceTag/${TAGS.managed}`]: this.props.deploymentId },
          ArnEquals: { 'ec2:InstanceProfile': this.props.instanceProfileArn },
        },
      }),
    );
    acknowledge(fn.role!, wildcardFinding('ec2', 'instance/*'), ANY_MANAGED_INSTANCE);
  }

  /** Find a cluster's instances by its tag and terminate them. */
  grantTerminate(fn: LambdaFunction): void {
    this.grantDescribe(fn);
    this.grantInstanceActions(fn, ['ec2:TerminateInstances']);
  }

  /**
   * Find volumes, and delete those that carry the deployment's
   * `bilbo:managed` tag (the reaper's orphans: left by a cluster that
   * ended). A volume's tag comes from its launch: CreateTags works only
   * inside RunInstances.
   */
  grantVolumeRemoval(fn: LambdaFunction): void {
    this.grantDescribeOnly(fn, ['ec2:DescribeVolumes']);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ec2:DeleteVolume'],
        resources: [regionalArn('ec2', 'volume/*')],
        conditions: { StringEquals: { [`ec2:ResourceTag/${TAGS.managed}`]: this.props.deploymentId } },
      }),
    );
    acknowledge(
      fn.role!,
      wildcardFinding('ec2', 'volume/*'),
      "Orphan volumes' ids are not known in advance: DeleteVolume only on volumes with the deployment's bilbo:managed tag, set at their launch.",
    );
  }

  /** Look at a cluster's instances and stop (a pause) or start (a resume) them. */
  grantStopOrStart(fn: LambdaFunction, action: 'ec2:StopInstances' | 'ec2:StartInstances'): void {
    this.grantDescribe(fn);
    this.grantInstanceActions(fn, [action]);
  }

  /**
   * Send scripts through SSM Run Command: the AWS-RunShellScript document
   * only, to instances with the deployment's `bilbo:managed` tag only.
   */
  grantSendCommands(fn: LambdaFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [regionalArn('ssm', `document/${RUN_SHELL_SCRIPT}`, { account: false })],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [regionalArn('ec2', 'instance/*')],
        conditions: { StringEquals: { [`aws:ResourceTag/${TAGS.managed}`]: this.props.deploymentId } },
      }),
    );
    acknowledge(
      fn.role!,
      wildcardFinding('ec2', 'instance/*'),
      "Commands go to instances whose ids are not known in advance: SendCommand needs the deployment's bilbo:managed tag on each.",
    );
  }

  /** Read how a sent command's invocations went (and, with `cancel`, cancel them). */
  grantReadCommands(fn: LambdaFunction, options: { cancel?: boolean } = {}): void {
    const actions = [
      'ssm:GetCommandInvocation',
      'ssm:ListCommands',
      ...(options.cancel ? ['ssm:CancelCommand'] : []),
    ];
    fn.addToRolePolicy(new PolicyStatement({ actions, resources: ['*'] }));
    acknowledge(
      fn.role!,
      'IAM5[Resource::*]',
      'SSM GetCommandInvocation, ListCommands and CancelCommand take no resource-level permissions; they act on commands bilbo sent.',
    );
  }

  /** Run, follow and cancel commands: the API's, and the create's init step's. */
  grantRunCommands(fn: LambdaFunction): void {
    this.grantSendCommands(fn);
    this.grantReadCommands(fn, { cancel: true });
  }

  /** Ask SSM which instances' agents are registered and online (no resource-level permissions). */
  grantCommandReachability(fn: LambdaFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['ssm:DescribeInstanceInformation'], resources: ['*'] }),
    );
    acknowledge(
      fn.role!,
      'IAM5[Resource::*]',
      'ssm:DescribeInstanceInformation takes no resource-level permissions; it only lists which instances SSM manages.',
    );
  }

  /** Only where the secrets live, with no access to them: a launch tells machines what to read. */
  tellSecretNames(fn: LambdaFunction): void {
    addEnvironment(fn, this.props.secretsEnvironment);
  }

  /** Store a new cluster's secrets (SecureString parameters under /bilbo/clusters/). */
  grantWriteSecrets(fn: LambdaFunction): void {
    this.grantSecrets(fn, ['ssm:PutParameter']);
  }

  /** Read a cluster's secrets back, to present them (the probe) or hand them to the cluster's owner (the API). */
  grantReadSecrets(fn: LambdaFunction): void {
    this.grantSecrets(fn, ['ssm:GetParameter']);
  }

  /** Find and delete a cluster's secrets. */
  grantRemoveSecrets(fn: LambdaFunction): void {
    this.grantSecrets(fn, ['ssm:GetParametersByPath', 'ssm:DeleteParameters']);
  }

  private grantSecrets(fn: LambdaFunction, actions: string[]): void {
    this.tellSecretNames(fn);
    fn.addToRolePolicy(new PolicyStatement({ actions, resources: [clusterParametersArn(fn)] }));
    acknowledge(
      fn.role!,
      wildcardFinding('ssm', 'parameter/bilbo/clusters/*'),
      "Parameter names hold the cluster id, known only per request: the function reaches every cluster's parameters and nothing else.",
    );
  }

  private grantDescribeOnly(fn: LambdaFunction, actions: string[]): void {
    fn.addToRolePolicy(new PolicyStatement({ actions, resources: ['*'] }));
    acknowledge(
      fn.role!,
      'IAM5[Resource::*]',
      'EC2 Describe* actions do not support resource-level permissions.',
    );
  }
}
