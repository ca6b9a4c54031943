import { DescribeInstanceTypesCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { Ec2InstanceTypeCatalog } from '../../../../lambdas/adapters/ec2/instance-type-catalog.ts';
import { ProviderBusyError, ValidationError } from '../../../../lambdas/domain/errors.ts';
import { type Ec2Mock, ec2Errors, mockEc2 } from '../../../support/ec2-mock.ts';

describe('Ec2InstanceTypeCatalog', () => {
  let ec2: Ec2Mock;
  afterEach(() => ec2.restore());

  it('describes an instance type with EC2’s cores, threads per core and memory', async () => {
    ec2 = mockEc2();

    const facts = await new Ec2InstanceTypeCatalog({ client: ec2.client }).describe('c5.2xlarge');

    expect(facts).toEqual({
      name: 'c5.2xlarge',
      vcpus: 8,
      threadsPerCore: 2,
      memoryMiB: 16384,
      source: 'ec2',
    });
    expect(ec2.inputsOf('DescribeInstanceTypes')).toEqual([{ InstanceTypes: ['c5.2xlarge'] }]);
  });

  it('asks EC2 once per type for the life of the catalog', async () => {
    ec2 = mockEc2();
    const catalog = new Ec2InstanceTypeCatalog({ client: ec2.client });

    await Promise.all([catalog.describe('t3.medium'), catalog.describe('t3.medium')]);
    await catalog.describe('t3.medium');
    await catalog.describe('m7g.large');

    expect(ec2.inputsOf('DescribeInstanceTypes').map((input) => input.InstanceTypes)).toEqual([
      ['t3.medium'],
      ['m7g.large'],
    ]);
  });

  it('refuses a type the region does not have, naming the field and the region', async () => {
    ec2 = mockEc2({ region: 'ap-southeast-2' });

    const described = new Ec2InstanceTypeCatalog({ client: ec2.client }).describe('m9.huge');

    await expect(described).rejects.toThrow(ValidationError);
    await expect(described).rejects.toMatchObject({
      field: 'instance.ec2type',
      message: expect.stringContaining('m9.huge is not an instance type in ap-southeast-2'),
    });
  });

  it('asks for an instance type when the profile names none, without calling EC2', async () => {
    ec2 = mockEc2();

    const described = new Ec2InstanceTypeCatalog({ client: ec2.client }).describe(undefined);

    await expect(described).rejects.toThrow(ValidationError);
    await expect(described).rejects.toThrow(/set instance\.ec2type \(or the role’s instance\.ec2type\)/);
    expect(ec2.callsOf('DescribeInstanceTypes')).toBe(0);
  });

  it('does not remember a throttled look-up', async () => {
    ec2 = mockEc2({ faults: [{ command: 'DescribeInstanceTypes', error: ec2Errors.throttled() }] });
    const catalog = new Ec2InstanceTypeCatalog({ client: ec2.client });

    await expect(catalog.describe('t3.small')).rejects.toThrow(ProviderBusyError);
    await expect(catalog.describe('t3.small')).resolves.toMatchObject({ vcpus: 2, memoryMiB: 2048 });
  });

  it('works out threads per core from the cores when EC2 does not say', async () => {
    ec2 = mockEc2();
    ec2.stub.on(DescribeInstanceTypesCommand).resolves({
      InstanceTypes: [
        {
          InstanceType: 'x2.weird',
          VCpuInfo: { DefaultVCpus: 8, DefaultCores: 4 },
          MemoryInfo: { SizeInMiB: 1024 },
        },
      ],
    } as never);

    const facts = await new Ec2InstanceTypeCatalog({ client: ec2.client }).describe('x2.weird');

    expect(facts.threadsPerCore).toBe(2);
  });

  it('has nothing to add to the plan', () => {
    ec2 = mockEc2();

    expect(new Ec2InstanceTypeCatalog({ client: ec2.client }).notes()).toEqual([]);
  });
});
