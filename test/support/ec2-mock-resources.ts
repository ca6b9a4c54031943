/**
 * The EC2 mock's fixed world (see ec2-mock.ts): its settings, EC2's errors
 * and filter rules, the describes of images, key pairs, security groups and
 * instance types, and RunInstances' checks of what it is asked to launch.
 */
import {
  type DescribeImagesCommandInput,
  type DescribeInstanceTypesCommandInput,
  type DescribeKeyPairsCommandInput,
  type DescribeSecurityGroupsCommandInput,
  EC2ServiceException,
  type Filter,
  type ImageState,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';

export interface MockImage {
  ImageId: string;
  RootDeviceName: string;
  /** @default 'available' */
  State?: ImageState;
  Name?: string;
}

export interface MockInstanceType {
  vcpus: number;
  cores: number;
  threadsPerCore: number;
  memoryMiB: number;
}

export interface MockSecurityGroup {
  GroupId: string;
  GroupName?: string;
  VpcId?: string;
}

export interface Ec2MockSettings {
  region: string;
  account: string;
  vpcId: string;
  subnetId: string;
  bootDescribes: number;
  unseenDescribes: number;
  pageSize: number;
  images: MockImage[];
  keyPairs: string[];
  securityGroups: MockSecurityGroup[];
  instanceTypes: Record<string, MockInstanceType>;
  publicIps: boolean;
  dryRun: 'allow' | 'deny';
}

/** An EC2 service error as the SDK throws it: `name` is EC2's error code. */
export function ec2Error(code: string, message: string, httpStatusCode = 400): EC2ServiceException {
  return new EC2ServiceException({
    name: code,
    message,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'c0ffee00-0000-4000-8000-000000000000', attempts: 1 },
  });
}

/** EC2's errors with EC2's wording, for faults. */
export const ec2Errors = {
  throttled: () => ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503),
  internal: () => ec2Error('InternalError', 'An internal error has occurred', 500),
  insufficientCapacity: (instanceType = 'c5.2xlarge', zone = 'eu-west-1a') =>
    ec2Error(
      'InsufficientInstanceCapacity',
      `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (${zone}). Our system will be working on provisioning additional capacity. You can currently get ${instanceType} capacity by not specifying an Availability Zone in your request or choosing eu-west-1b, eu-west-1c.`,
      500,
    ),
  vcpuLimit: () =>
    ec2Error(
      'VcpuLimitExceeded',
      'You have requested more vCPU capacity than your current vCPU limit of 32 allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.',
    ),
  unauthorized: (action = 'ec2:RunInstances') =>
    ec2Error(
      'UnauthorizedOperation',
      `You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/bilbo-workflow/bilbo is not authorized to perform: ${action} because no identity-based policy allows the ${action} action. Encoded authorization failure message: bm90LWRlY29kZWQ`,
      403,
    ),
};

const MAX_FILTER_VALUES = 200;

export class Ec2MockResources {
  constructor(readonly settings: Ec2MockSettings) {}

  validateLaunch(input: RunInstancesCommandInput): void {
    const { ImageId, InstanceType, KeyName, UserData, ClientToken } = input;
    if (!ImageId || !/^ami-[0-9a-f]{8,17}$/.test(ImageId)) {
      throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${ImageId}" (expecting "ami-...")`);
    }
    if (!this.settings.images.some((image) => image.ImageId === ImageId)) {
      throw ec2Error('InvalidAMIID.NotFound', `The image id '[${ImageId}]' does not exist`);
    }
    if (!InstanceType || !this.settings.instanceTypes[InstanceType]) {
      throw ec2Error('InvalidParameterValue', `Invalid value '${InstanceType}' for InstanceType.`);
    }
    if (KeyName && !this.settings.keyPairs.includes(KeyName)) {
      throw ec2Error('InvalidKeyPair.NotFound', `The key pair '${KeyName}' does not exist`);
    }
    for (const group of input.SecurityGroupIds ?? []) {
      if (!this.settings.securityGroups.some((known) => known.GroupId === group)) {
        throw ec2Error(
          'InvalidGroup.NotFound',
          `The security group '${group}' does not exist in VPC '${this.settings.vpcId}'`,
        );
      }
    }
    if ((input.MinCount ?? 0) < 1 || (input.MinCount ?? 0) > (input.MaxCount ?? 0)) {
      throw ec2Error('InvalidParameterValue', 'MinCount must be at least 1 and at most MaxCount.');
    }
    if (ClientToken && ClientToken.length > 64) {
      throw ec2Error(
        'InvalidParameterValue',
        `Value (${ClientToken}) for parameter clientToken is invalid. Length exceeds maximum of 64 characters.`,
      );
    }
    if (UserData !== undefined) {
      const decoded = Buffer.from(UserData, 'base64');
      if (decoded.toString('base64') !== UserData)
        throw ec2Error('InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
      if (decoded.length > 16_384)
        throw ec2Error('InvalidParameterValue', 'User data is limited to 16384 bytes');
    }
    for (const spec of input.TagSpecifications ?? []) {
      if ((spec.Tags ?? []).length > 50)
        throw ec2Error('TagLimitExceeded', 'The maximum number of tags per resource is 50.');
      if ((spec.Tags ?? []).some((tag) => tag.Key?.toLowerCase().startsWith('aws:'))) {
        throw ec2Error(
          'InvalidParameterValue',
          "Tag keys starting with 'aws:' are reserved for internal use",
        );
      }
    }
  }

  describeImages(input: DescribeImagesCommandInput) {
    checkFilterLimit(input.Filters);
    for (const id of input.ImageIds ?? []) {
      if (!/^ami-[0-9a-f]{8,17}$/.test(id))
        throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
      if (!this.settings.images.some((image) => image.ImageId === id)) {
        throw ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
      }
    }
    const images = this.settings.images
      .filter((image) => !input.ImageIds?.length || input.ImageIds.includes(image.ImageId))
      .map((image) => ({
        ImageId: image.ImageId,
        Name: image.Name ?? `bilbo-dask-${image.ImageId.slice(4, 12)}`,
        State: image.State ?? 'available',
        OwnerId: this.settings.account,
        Architecture: 'x86_64' as const,
        RootDeviceType: 'ebs' as const,
        RootDeviceName: image.RootDeviceName,
        BlockDeviceMappings: [
          {
            DeviceName: image.RootDeviceName,
            Ebs: { VolumeSize: 8, VolumeType: 'gp3' as const, DeleteOnTermination: true },
          },
        ],
      }))
      .filter((image) =>
        matches(image, input.Filters, { 'image-id': image.ImageId, state: image.State, name: image.Name }),
      );
    return { Images: images };
  }

  describeKeyPairs(input: DescribeKeyPairsCommandInput) {
    checkFilterLimit(input.Filters);
    const missing = (input.KeyNames ?? []).find((name) => !this.settings.keyPairs.includes(name));
    if (missing) throw ec2Error('InvalidKeyPair.NotFound', `The key pair '${missing}' does not exist`);
    const pairs = this.settings.keyPairs
      .filter((name) => !input.KeyNames?.length || input.KeyNames.includes(name))
      .filter((name) => matches({}, input.Filters, { 'key-name': name }))
      .map((KeyName, i) => ({
        KeyName,
        KeyPairId: `key-0${i.toString(16).padStart(16, '0')}`,
        KeyType: 'ed25519' as const,
      }));
    return { KeyPairs: pairs };
  }

  describeSecurityGroups(input: DescribeSecurityGroupsCommandInput) {
    checkFilterLimit(input.Filters);
    const missing = (input.GroupIds ?? []).find(
      (id) => !this.settings.securityGroups.some((g) => g.GroupId === id),
    );
    if (missing) throw ec2Error('InvalidGroup.NotFound', `The security group '${missing}' does not exist`);
    const groups = this.settings.securityGroups
      .filter((group) => !input.GroupIds?.length || input.GroupIds.includes(group.GroupId))
      .filter((group) => matches({}, input.Filters, { 'group-id': group.GroupId, 'vpc-id': group.VpcId }))
      .map((group) => ({ OwnerId: this.settings.account, Description: group.GroupName ?? '', ...group }));
    return { SecurityGroups: groups };
  }

  describeInstanceTypes(input: DescribeInstanceTypesCommandInput) {
    const asked = input.InstanceTypes ?? [];
    const unknown = asked.filter((type) => !this.settings.instanceTypes[type]);
    if (unknown.length > 0) {
      throw ec2Error(
        'InvalidInstanceType',
        `The following supplied instance types do not exist: [${unknown.join(', ')}]`,
      );
    }
    return {
      InstanceTypes: asked.map((type) => {
        const facts = this.settings.instanceTypes[type]!;
        return {
          InstanceType: type,
          CurrentGeneration: true,
          VCpuInfo: {
            DefaultVCpus: facts.vcpus,
            DefaultCores: facts.cores,
            DefaultThreadsPerCore: facts.threadsPerCore,
          },
          MemoryInfo: { SizeInMiB: facts.memoryMiB },
        };
      }),
    };
  }
}

export function tagOf(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((tag) => tag.Key === key)?.Value;
}

export function checkFilterLimit(filters: Filter[] | undefined): void {
  const values = (filters ?? []).reduce((sum, filter) => sum + (filter.Values?.length ?? 0), 0);
  if (values > MAX_FILTER_VALUES) {
    throw ec2Error(
      'FilterLimitExceeded',
      `The maximum number of filter values specified on a single call is ${MAX_FILTER_VALUES}`,
    );
  }
}

/**
 * EC2's filter semantics: every filter must match, any of its values
 * matches, `*` and `?` are wildcards. Instances are matched on their own
 * fields and `tag:KEY`; other resources pass their fields in.
 */
export function matches(
  item: Instance | object,
  filters: Filter[] | undefined,
  fields?: Record<string, string | undefined>,
): boolean {
  return (filters ?? []).every((filter) => {
    const name = filter.Name ?? '';
    let actual: string | undefined;
    if (fields) {
      if (!(name in fields)) throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      actual = fields[name];
    } else {
      const instance = item as Instance;
      if (name === 'instance-id') actual = instance.InstanceId;
      else if (name === 'instance-state-name') actual = instance.State?.Name;
      else if (name.startsWith('tag:')) actual = tagOf(instance, name.slice(4));
      else throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    }
    return actual !== undefined && valueTest(filter)(actual);
  });
}

const compiled = new WeakMap<Filter, (actual: string) => boolean>();

function valueTest(filter: Filter): (actual: string) => boolean {
  let test = compiled.get(filter);
  if (!test) {
    const values = filter.Values ?? [];
    const exact = new Set(values.filter((value) => !/[*?]/.test(value)));
    const patterns = values.filter((value) => /[*?]/.test(value)).map(glob);
    test = (actual) => exact.has(actual) || patterns.some((pattern) => pattern.test(actual));
    compiled.set(filter, test);
  }
  return test;
}

function glob(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${escaped}$`);
}
