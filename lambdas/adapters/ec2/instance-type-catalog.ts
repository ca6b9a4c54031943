import {
  type _InstanceType,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypesCommandOutput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { InstanceTypeFacts } from '../../../schemas/types.generated.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { InstanceTypeCatalog } from '../../domain/ports.ts';
import { isEc2Error, translateEc2Error } from './errors.ts';

export interface Ec2InstanceTypeCatalogOptions {
  client: EC2Client;
}

/**
 * Instance-type facts from EC2's DescribeInstanceTypes, each type looked up
 * once for the life of the catalog (instance types do not change; a plan
 * with three roles of one type makes one call).
 */
export class Ec2InstanceTypeCatalog implements InstanceTypeCatalog {
  private readonly client: EC2Client;
  private readonly lookups = new Map<string, Promise<InstanceTypeFacts>>();

  constructor(options: Ec2InstanceTypeCatalogOptions) {
    this.client = options.client;
  }

  async describe(instanceType: string | undefined): Promise<InstanceTypeFacts> {
    if (instanceType === undefined || instanceType === '') {
      throw new ValidationError('instance.ec2type: set instance.ec2type (or the role’s instance.ec2type)', {
        field: 'instance.ec2type',
      });
    }
    let lookup = this.lookups.get(instanceType);
    if (!lookup) {
      lookup = this.lookUp(instanceType);
      this.lookups.set(instanceType, lookup);
      // A failure (throttling) is not remembered: the next plan asks again.
      lookup.catch(() => this.lookups.delete(instanceType));
    }
    return lookup;
  }

  notes(): string[] {
    return [];
  }

  private async lookUp(instanceType: string): Promise<InstanceTypeFacts> {
    let answer: DescribeInstanceTypesCommandOutput;
    try {
      answer = await this.client.send(
        new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] }),
      );
    } catch (error) {
      if (isEc2Error(error, 'InvalidInstanceType')) throw await this.unknown(instanceType, error);
      throw translateEc2Error(error, { action: 'DescribeInstanceTypes' });
    }
    const info = answer.InstanceTypes?.find((type) => type.InstanceType === instanceType);
    const vcpus = info?.VCpuInfo?.DefaultVCpus;
    const memoryMiB = info?.MemoryInfo?.SizeInMiB;
    if (!info || vcpus === undefined || memoryMiB === undefined) throw await this.unknown(instanceType);
    const cores = info.VCpuInfo?.DefaultCores;
    const threadsPerCore = info.VCpuInfo?.DefaultThreadsPerCore ?? (cores ? Math.round(vcpus / cores) : 1);
    return { name: instanceType, vcpus, threadsPerCore, memoryMiB, source: 'ec2' };
  }

  private async unknown(instanceType: string, cause?: unknown): Promise<ValidationError> {
    const region = await this.client.config.region();
    return new ValidationError(
      `instance.ec2type: ${instanceType} is not an instance type in ${region}; see \`aws ec2 describe-instance-type-offerings\` for the ones it offers`,
      { field: 'instance.ec2type', ...(cause === undefined ? {} : { cause }) },
    );
  }
}
