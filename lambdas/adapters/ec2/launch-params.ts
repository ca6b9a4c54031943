/**
 * What one RunInstances call asks EC2 for, as a pure function of the launch
 * request and the deployment's settings: the provider sends it, the
 * preflight sends it as a dry run.
 */
import type { Image, RunInstancesCommandInput, Tag } from '@aws-sdk/client-ec2';
import type { ResolvedInstance } from '../../../schemas/types.generated.ts';
import { ValidationError } from '../../domain/errors.ts';
import { launchName } from '../../domain/machines.ts';
import type { LaunchRequest } from '../../domain/ports.ts';

/** The deployment's side of a launch (the cluster network, set up by the stack). */
export interface Ec2ProviderConfig {
  /** Subnets for the cluster's instances; every launch uses the first. */
  subnetIds: string[];
  /** The stack's cluster security group, on every instance (instance ↔ instance, probe → probed ports). */
  clusterSecurityGroupId: string;
  /** The instance profile whose role reads the cluster's secrets and talks to SSM. */
  instanceProfileArn: string;
  /** This deployment's id: the value of the `bilbo:managed` tag on everything it launches. */
  deploymentId: string;
  /** The groups a profile may add to the cluster's (`instance.security_group`): none by default. */
  allowedSecurityGroupIds?: readonly string[];
  /** The image for profiles that name none. */
  defaultAmi?: string;
}

/** The tags bilbo puts on every instance and volume at launch. */
export const TAGS = {
  clusterId: 'bilbo:cluster-id',
  cluster: 'bilbo:cluster',
  role: 'bilbo:role',
  owner: 'bilbo:owner',
  /** Its value is the deployment's id (Ec2ProviderConfig.deploymentId). */
  managed: 'bilbo:managed',
  /** The role index of the call's first instance: an instance's index is this plus its AmiLaunchIndex. */
  firstIndex: 'bilbo:first-index',
  /**
   * EC2's display name (domain/machines.ts machineName): the one tag bilbo
   * sets after a launch, when it gives each instance its index.
   */
  name: 'Name',
} as const;

/** An image's root device, from DescribeImages. */
export interface RootDevice {
  name: string;
  /** The image's own root volume size, used when the profile sets no vol_size. */
  sizeGiB?: number;
}

/** An image's root device and its size, from a DescribeImages answer; undefined for no image. */
export function rootDeviceOf(image: Image | undefined): RootDevice | undefined {
  const name = image?.RootDeviceName;
  if (!name) return undefined;
  const size = image.BlockDeviceMappings?.find((mapping) => mapping.DeviceName === name)?.Ebs?.VolumeSize;
  return { name, ...(size === undefined ? {} : { sizeGiB: size }) };
}

export interface LaunchParamsOptions {
  /** The user-data script, not yet base64-encoded. Left out when undefined. */
  userData?: string;
  /** The image's root device: every launch sends its mapping, so the root volume is always encrypted gp3. */
  rootDevice?: RootDevice;
  /** A permission check: no ClientToken, and EC2 answers DryRunOperation when it would have launched. */
  dryRun?: boolean;
}

export function imageIdOf(instance: ResolvedInstance, config: Pick<Ec2ProviderConfig, 'defaultAmi'>): string {
  const imageId = instance.ami ?? config.defaultAmi;
  if (imageId === undefined || imageId === '') {
    throw new ValidationError(
      'instance.ami: no machine image: set instance.ami (or the role’s instance.ami), or deploy bilbo with a default AMI',
      { field: 'instance.ami' },
    );
  }
  return imageId;
}

/** The Name every instance of the launch starts with (domain/machines.ts launchName). */
export function instanceName(
  request: Pick<LaunchRequest, 'instancePrefix' | 'clusterName' | 'role' | 'firstIndex' | 'count'>,
): string {
  return launchName(request);
}

/**
 * The profile's tags, then bilbo's. The profile schema already refuses
 * `bilbo:`, `aws:` and `Name` keys; should one get here anyway, ours win on
 * a conflict, and `aws:` keys are dropped because EC2 refuses the whole call.
 */
export function launchTags(request: Ec2LaunchRequest, deploymentId: string): Tag[] {
  const ours: Tag[] = [
    { Key: TAGS.clusterId, Value: request.clusterId },
    { Key: TAGS.cluster, Value: request.clusterName },
    { Key: TAGS.role, Value: request.role },
    { Key: TAGS.owner, Value: request.owner },
    { Key: TAGS.managed, Value: deploymentId },
    { Key: TAGS.firstIndex, Value: String(request.firstIndex) },
    { Key: TAGS.name, Value: instanceName(request) },
  ];
  const taken = new Set(ours.map((tag) => tag.Key));
  const theirs = request.instance.tags
    .filter(([key]) => !key.toLowerCase().startsWith('aws:') && !taken.has(key))
    .map(([Key, Value]): Tag => ({ Key, Value }));
  return [...theirs, ...ours];
}

/** What a launch asks EC2 for; what the machines then start (the bootstrap) is the user-data's. */
export type Ec2LaunchRequest = Omit<LaunchRequest, 'bootstrap'>;

/** Why a profile may not attach `groupId`, or undefined when it may. */
export function securityGroupRefusal(
  groupId: string,
  config: Pick<Ec2ProviderConfig, 'clusterSecurityGroupId' | 'allowedSecurityGroupIds'>,
): string | undefined {
  const allowed = config.allowedSecurityGroupIds ?? [];
  if (groupId === config.clusterSecurityGroupId || allowed.includes(groupId)) return undefined;
  const which = allowed.length > 0 ? `only ${allowed.join(', ')}` : 'none';
  return (
    `security group ${groupId} is not one this deployment lets profiles attach (it allows ${which}, ` +
    "besides the cluster's own); leave security_group out, or ask an admin to add the group to bilbo:allowedSecurityGroups"
  );
}

/** One call for all `count` instances of the request: all or nothing. */
export function runInstancesInput(
  request: Ec2LaunchRequest,
  config: Ec2ProviderConfig,
  options: LaunchParamsOptions = {},
): RunInstancesCommandInput {
  const { instance } = request;
  const refusal = instance.security_group && securityGroupRefusal(instance.security_group, config);
  if (refusal) {
    throw new ValidationError(`instance.security_group: ${refusal}`, { field: 'instance.security_group' });
  }
  const tags = launchTags(request, config.deploymentId);
  const securityGroupIds = [
    ...new Set([
      config.clusterSecurityGroupId,
      ...(instance.security_group ? [instance.security_group] : []),
    ]),
  ];
  const input: RunInstancesCommandInput = {
    ImageId: imageIdOf(instance, config),
    InstanceType: instance.ec2type as RunInstancesCommandInput['InstanceType'],
    MinCount: request.count,
    MaxCount: request.count,
    SubnetId: config.subnetIds[0],
    SecurityGroupIds: securityGroupIds,
    IamInstanceProfile: { Arn: config.instanceProfileArn },
    // IMDSv2 only, and one hop: a container on the instance cannot reach the instance's credentials.
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
    InstanceInitiatedShutdownBehavior: 'terminate',
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
  };
  if (options.dryRun) input.DryRun = true;
  else input.ClientToken = request.idempotencyToken;
  if (instance.keyname) input.KeyName = instance.keyname;
  if (options.userData !== undefined)
    input.UserData = Buffer.from(options.userData, 'utf8').toString('base64');
  if (!options.rootDevice) throw new Error(`the root device of ${input.ImageId} is needed to map its volume`);
  const size = instance.vol_size ?? options.rootDevice.sizeGiB;
  // Without the mapping, the image's own settings apply: unencrypted on most images.
  input.BlockDeviceMappings = [
    {
      DeviceName: options.rootDevice.name,
      Ebs: {
        ...(size === undefined ? {} : { VolumeSize: size }),
        VolumeType: 'gp3',
        Encrypted: true,
        DeleteOnTermination: true,
      },
    },
  ];
  return input;
}
