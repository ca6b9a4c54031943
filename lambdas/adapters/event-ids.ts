import { randomBytes } from 'node:crypto';
import type { ClusterEvent, ClusterState } from '../../schemas/types.generated.ts';
import type { Clock, NewEvent } from '../domain/ports.ts';

/**
 * Event ids that sort in the order they were made: `<ISO time>#<counter>#<4 hex>`.
 * The counter orders events made within one millisecond (or while the clock
 * stands still, or steps back); the random suffix keeps ids from different
 * processes apart.
 */
export class EventIdGenerator {
  private lastMs = Number.NEGATIVE_INFINITY;
  private counter = 0;

  next(now: Date): string {
    const ms = Math.max(now.getTime(), this.lastMs);
    if (ms === this.lastMs) {
      this.counter += 1;
    } else {
      this.lastMs = ms;
      this.counter = 0;
    }
    return `${new Date(ms).toISOString()}#${String(this.counter).padStart(6, '0')}#${randomBytes(2).toString('hex')}`;
  }
}

/** Shared by every store of the process: local mode runs several in one process. */
export const processEventIds = new EventIdGenerator();

/** A cluster's event as every store records it: now, with a fresh id, and the state it entered, if any. */
export function stampEvent(
  ids: EventIdGenerator,
  clock: Clock,
  clusterId: string,
  event: NewEvent,
  state?: ClusterState,
): ClusterEvent {
  const now = clock.now();
  return {
    id: ids.next(now),
    clusterId,
    at: now.toISOString(),
    step: event.step,
    message: event.message,
    ...(state ? { state } : {}),
  };
}
