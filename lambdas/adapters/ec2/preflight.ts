/**
 * What EC2 can tell before anything is launched: that the images, key pairs
 * and security groups a plan names exist in this region, and that bilbo may
 * launch each role (a dry-run RunInstances with the role's real parameters).
 * A bad value is a ValidationError naming the profile field that holds it.
 */
import {
  DescribeImagesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type Image,
  RunInstancesCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import type { Plan, Profile, RoleName, RolePlan } from '../../../schemas/types.generated.ts';
import { ProvisioningError, ValidationError } from '../../domain/errors.ts';
import { kindForProfile } from '../../domain/kinds/index.ts';
import type { LaunchPreflight } from '../../domain/ports.ts';
import { type Ec2Field, isEc2Error, translateEc2Error } from './errors.ts';
import {
  type Ec2LaunchRequest,
  type Ec2ProviderConfig,
  rootDeviceOf,
  runInstancesInput,
  securityGroupRefusal,
} from './launch-params.ts';

export interface Ec2LaunchPreflightOptions {
  client: EC2Client;
  config: Ec2ProviderConfig;
}

/** The profile field holding a role's value: its own instance when it sets it, else the common one. */
export function profileFieldOf(profile: Profile, role: RoleName, field: Ec2Field): string {
  const own = kindForProfile(profile).roleInstance(profile, role);
  return `profile.${own.instance?.[field] !== undefined ? own.path : 'instance'}.${field}`;
}

interface Problem {
  field: string;
  message: string;
}

export class Ec2LaunchPreflight implements LaunchPreflight {
  private readonly client: EC2Client;
  private readonly config: Ec2ProviderConfig;

  constructor(options: Ec2LaunchPreflightOptions) {
    this.client = options.client;
    this.config = options.config;
  }

  async check(plan: Plan, profile: Profile): Promise<void> {
    const region = await this.client.config.region();
    const fieldOf = (role: RolePlan, field: Ec2Field) => profileFieldOf(profile, role.role, field);
    const [images, keyProblems, groupProblems] = await Promise.all([
      this.images(plan.roles),
      this.keyPairProblems(plan.roles, fieldOf, region),
      this.securityGroupProblems(plan.roles, fieldOf, region),
    ]);
    const problems = [
      ...this.imageProblems(plan.roles, images, fieldOf, region),
      ...keyProblems,
      ...groupProblems,
    ];
    const first = problems[0];
    if (first) {
      throw new ValidationError(problems.map((problem) => problem.message).join('; '), {
        field: first.field,
      });
    }
    const dryRuns = await Promise.allSettled(
      plan.roles.map((role) => this.dryRun(plan, profile, role, images)),
    );
    const refused = dryRuns.find((result) => result.status === 'rejected');
    if (refused) throw refused.reason;
  }

  private imageIdOf(role: RolePlan): string | undefined {
    return role.instance.ami ?? this.config.defaultAmi;
  }

  private async images(roles: readonly RolePlan[]): Promise<Map<string, Image>> {
    const ids = distinct(roles.map((role) => this.imageIdOf(role)));
    if (ids.length === 0) return new Map();
    // A filter, unlike ImageIds, answers the images that exist instead of failing on the first that does not.
    const answer = await this.send('DescribeImages', () =>
      this.client.send(
        new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: ids }], IncludeDeprecated: true }),
      ),
    );
    return new Map((answer.Images ?? []).map((image) => [image.ImageId ?? '', image]));
  }

  private imageProblems(
    roles: readonly RolePlan[],
    images: Map<string, Image>,
    fieldOf: (role: RolePlan, field: Ec2Field) => string,
    region: string,
  ): Problem[] {
    const problems = new Map<string, Problem>();
    for (const role of roles) {
      const field = fieldOf(role, 'ami');
      const imageId = this.imageIdOf(role);
      if (imageId === undefined || problems.has(imageId)) continue;
      const image = images.get(imageId);
      const fromDeployment = role.instance.ami === undefined;
      let message: string | undefined;
      if (!image) {
        message = fromDeployment
          ? `${field}: bilbo's default AMI ${imageId} does not exist in ${region}; set instance.ami, or redeploy bilbo with an AMI of this region`
          : `${field}: ${imageId} does not exist in ${region} (or is not shared with this account)`;
      } else if (image.State !== undefined && image.State !== 'available') {
        message = `${field}: ${imageId} is ${image.State} in ${region}, not available`;
      }
      if (message) problems.set(imageId, { field, message });
    }
    const missing = roles.find((role) => this.imageIdOf(role) === undefined);
    if (missing) {
      const field = fieldOf(missing, 'ami');
      problems.set('', {
        field,
        message: `${field}: no machine image: set instance.ami (or the role's instance.ami), or deploy bilbo with a default AMI`,
      });
    }
    return [...problems.values()];
  }

  private async keyPairProblems(
    roles: readonly RolePlan[],
    fieldOf: (role: RolePlan, field: Ec2Field) => string,
    region: string,
  ): Promise<Problem[]> {
    const names = distinct(roles.map((role) => role.instance.keyname));
    if (names.length === 0) return [];
    const answer = await this.send('DescribeKeyPairs', () =>
      this.client.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: names }] })),
    );
    const known = new Set((answer.KeyPairs ?? []).map((pair) => pair.KeyName));
    return firstUseOfEach(roles, (role) => role.instance.keyname)
      .filter(({ value }) => !known.has(value))
      .map(({ role, value }) => {
        const field = fieldOf(role, 'keyname');
        return { field, message: `${field}: key pair ${value} does not exist in ${region}` };
      });
  }

  private async securityGroupProblems(
    roles: readonly RolePlan[],
    fieldOf: (role: RolePlan, field: Ec2Field) => string,
    region: string,
  ): Promise<Problem[]> {
    const refused = firstUseOfEach(roles, (role) => role.instance.security_group).flatMap(
      ({ role, value }) => {
        const refusal = securityGroupRefusal(value, this.config);
        return refusal
          ? [
              {
                field: fieldOf(role, 'security_group'),
                message: `${fieldOf(role, 'security_group')}: ${refusal}`,
              },
            ]
          : [];
      },
    );
    if (refused.length > 0) return refused;
    const ids = distinct(roles.map((role) => role.instance.security_group));
    if (ids.length === 0) return [];
    const answer = await this.send('DescribeSecurityGroups', () =>
      this.client.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: 'group-id', Values: distinct([...ids, this.config.clusterSecurityGroupId]) }],
        }),
      ),
    );
    const groups = new Map<string, SecurityGroup>(
      (answer.SecurityGroups ?? []).map((group) => [group.GroupId ?? '', group]),
    );
    const clusterVpc = groups.get(this.config.clusterSecurityGroupId)?.VpcId;
    return firstUseOfEach(roles, (role) => role.instance.security_group).flatMap(({ role, value }) => {
      const field = fieldOf(role, 'security_group');
      const group = groups.get(value);
      if (!group) {
        const hint = value.startsWith('sg-') ? '' : ' (security_group takes a group id, sg-…)';
        return [{ field, message: `${field}: security group ${value} does not exist in ${region}${hint}` }];
      }
      if (clusterVpc && group.VpcId && group.VpcId !== clusterVpc) {
        return [
          {
            field,
            message: `${field}: security group ${value} is in ${group.VpcId}, but bilbo launches into ${clusterVpc}`,
          },
        ];
      }
      return [];
    });
  }

  private async dryRun(
    plan: Plan,
    profile: Profile,
    role: RolePlan,
    images: Map<string, Image>,
  ): Promise<void> {
    // No cluster exists yet: the tags carry placeholders where the ids will be.
    const request: Ec2LaunchRequest = {
      clusterId: 'preflight',
      clusterName: plan.cluster,
      owner: 'preflight',
      role: role.role,
      firstIndex: 0,
      count: role.count,
      instance: role.instance,
      instanceType: role.instanceType,
      idempotencyToken: 'preflight',
      ...(plan.instancePrefix !== undefined ? { instancePrefix: plan.instancePrefix } : {}),
    };
    const rootDevice = rootDeviceOf(images.get(this.imageIdOf(role) ?? ''));
    const input = runInstancesInput(request, this.config, {
      dryRun: true,
      ...(rootDevice ? { rootDevice } : {}),
    });
    try {
      await this.client.send(new RunInstancesCommand(input));
    } catch (error) {
      if (isEc2Error(error, 'DryRunOperation')) return;
      if (isEc2Error(error, 'UnauthorizedOperation')) {
        throw new ProvisioningError(
          `you may not launch the ${role.role} instances: missing ec2:RunInstances (or iam:PassRole on the instances' role)`,
          { cause: error },
        );
      }
      throw translateEc2Error(error, {
        action: 'RunInstances',
        fieldOf: (field) => profileFieldOf(profile, role.role, field),
      });
    }
  }

  private async send<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateEc2Error(error, { action });
    }
  }
}

function distinct(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((value): value is string => value !== undefined && value !== ''))];
}

/** Each distinct value with the first role (in launch order) that uses it. */
function firstUseOfEach(
  roles: readonly RolePlan[],
  pick: (role: RolePlan) => string | undefined,
): { role: RolePlan; value: string }[] {
  const seen = new Map<string, RolePlan>();
  for (const role of roles) {
    const value = pick(role);
    if (value && !seen.has(value)) seen.set(value, role);
  }
  return [...seen].map(([value, role]) => ({ role, value }));
}
