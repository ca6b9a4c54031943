import { ConcurrentUpdateError } from '../errors.ts';

/** How many times a change is tried on a fresh read before the conflict is the caller's. */
const ATTEMPTS = 3;

/**
 * Runs a change that reads a cluster and writes it on the version it read,
 * again from a fresh read when another write got in between (a reader's
 * health refresh, a workflow's progress event): the conflict says the
 * record moved, not that the change is wrong. The change must write on the
 * version before anything else, so a retry repeats nothing.
 */
export async function retryingConcurrentUpdates<T>(change: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await change();
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt >= ATTEMPTS) throw error;
    }
  }
}
