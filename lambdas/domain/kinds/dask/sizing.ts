import type { DaskWorkerOptions, InstanceTypeFacts } from '../../../../schemas/types.generated.ts';

/** Share of an instance's memory the Dask workers may use; the rest is left for the OS and the nanny. */
const MEMORY_SHARE = 0.9;

/**
 * How many Dask worker processes and threads to run on one instance: by
 * default one process per physical core, with one thread per hardware thread;
 * the profile's nproc / nthread win.
 */
export function sizeDaskWorkers(
  facts: InstanceTypeFacts,
  profile: { nproc?: number | undefined; nthread?: number | undefined },
): DaskWorkerOptions {
  const threadsPerCore = Math.max(1, facts.threadsPerCore);
  const cores = Math.max(1, Math.floor(facts.vcpus / threadsPerCore));
  const nworkers = profile.nproc ?? cores;
  const nthreads = profile.nthread ?? threadsPerCore;
  const memoryLimitBytes = Math.floor((facts.memoryMiB * 1024 * 1024 * MEMORY_SHARE) / nworkers);
  return { nworkers, nthreads, memoryLimitBytes };
}
