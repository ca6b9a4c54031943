/** A clock the test moves by hand. */
import type { Clock } from '../../lambdas/domain/ports.ts';

export interface FakeClock extends Clock {
  set(time: Date | string): void;
  advance(ms: number): void;
}

export function fakeClock(start: Date | string = '2026-01-01T00:00:00.000Z'): FakeClock {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    set: (time) => {
      now = new Date(time);
    },
    advance: (ms) => {
      now = new Date(now.getTime() + ms);
    },
  };
}
