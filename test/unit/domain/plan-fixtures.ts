import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceTypeCatalog } from '../../../lambdas/domain/ports.ts';
import type { InstanceTypeFacts, Profile, ResolvedInstance } from '../../../schemas/types.generated.ts';
import { validateProfile } from '../../../schemas/validate.ts';

const TYPES: Record<string, InstanceTypeFacts> = {
  't3.small': { name: 't3.small', vcpus: 2, threadsPerCore: 2, memoryMiB: 2048, source: 'test' },
  't3.medium': { name: 't3.medium', vcpus: 2, threadsPerCore: 2, memoryMiB: 4096, source: 'test' },
  't3.large': { name: 't3.large', vcpus: 2, threadsPerCore: 2, memoryMiB: 8192, source: 'test' },
  'm5.large': { name: 'm5.large', vcpus: 2, threadsPerCore: 2, memoryMiB: 8192, source: 'test' },
  'm5.xlarge': { name: 'm5.xlarge', vcpus: 4, threadsPerCore: 2, memoryMiB: 16384, source: 'test' },
  'c5.2xlarge': { name: 'c5.2xlarge', vcpus: 8, threadsPerCore: 2, memoryMiB: 16384, source: 'test' },
  'r5.large': { name: 'r5.large', vcpus: 2, threadsPerCore: 2, memoryMiB: 16384, source: 'test' },
};

/** A catalog that knows a few EC2 types, answers "this machine" for no type, and records its calls. */
export function fakeCatalog(notesFor: (instance: ResolvedInstance) => string[] = () => []) {
  const described: (string | undefined)[] = [];
  const catalog: InstanceTypeCatalog = {
    async describe(instanceType) {
      described.push(instanceType);
      if (instanceType === undefined) {
        return {
          name: 'this machine',
          vcpus: 2,
          threadsPerCore: 1,
          memoryMiB: 24576,
          source: 'this machine',
        };
      }
      const facts = TYPES[instanceType];
      if (!facts) throw new Error(`unknown instance type ${instanceType}`);
      return facts;
    },
    notes: notesFor,
  };
  return { catalog, described };
}

export function profileFixture(name: string): Profile {
  const path = join(import.meta.dirname, '../../fixtures/profiles', name);
  return validateProfile(JSON.parse(readFileSync(path, 'utf8')));
}
