import { describe, expect, it } from 'vitest';
import { sizeDaskWorkers } from '../../../../../lambdas/domain/kinds/dask/sizing.ts';
import type { DaskWorkerOptions, InstanceTypeFacts } from '../../../../../schemas/types.generated.ts';

const facts = (
  name: string,
  vcpus: number,
  threadsPerCore: number,
  memoryMiB: number,
): InstanceTypeFacts => ({
  name,
  vcpus,
  threadsPerCore,
  memoryMiB,
});

describe('sizeDaskWorkers', () => {
  // Memory: 90% of the instance's, split evenly between the worker processes.
  it.each<[InstanceTypeFacts, { nproc?: number; nthread?: number }, DaskWorkerOptions]>([
    [facts('m5.xlarge', 4, 2, 16384), {}, { nworkers: 2, nthreads: 2, memoryLimitBytes: 7_730_941_132 }],
    [facts('t3.medium', 2, 2, 4096), {}, { nworkers: 1, nthreads: 2, memoryLimitBytes: 3_865_470_566 }],
    [facts('c6g.xlarge', 4, 1, 8192), {}, { nworkers: 4, nthreads: 1, memoryLimitBytes: 1_932_735_283 }],
    [facts('odd', 3, 2, 1024), {}, { nworkers: 1, nthreads: 2, memoryLimitBytes: 966_367_641 }],
    [facts('t3.nano', 1, 2, 512), {}, { nworkers: 1, nthreads: 2, memoryLimitBytes: 483_183_820 }],
    [
      facts('m5.xlarge', 4, 2, 16384),
      { nproc: 4 },
      { nworkers: 4, nthreads: 2, memoryLimitBytes: 3_865_470_566 },
    ],
    [
      facts('m5.xlarge', 4, 2, 16384),
      { nthread: 1 },
      { nworkers: 2, nthreads: 1, memoryLimitBytes: 7_730_941_132 },
    ],
    [
      facts('m5.xlarge', 4, 2, 16384),
      { nproc: 1, nthread: 8 },
      { nworkers: 1, nthreads: 8, memoryLimitBytes: 15_461_882_265 },
    ],
  ])('sizes %o with profile %o as %o', (instance, profile, expected) => {
    expect(sizeDaskWorkers(instance, profile)).toEqual(expected);
  });

  it('gives every worker process a whole number of bytes', () => {
    expect(Number.isInteger(sizeDaskWorkers(facts('x', 3, 1, 1000), {}).memoryLimitBytes)).toBe(true);
  });
});
