import { describe, expect, it } from 'vitest';
import { createDeadline, deadlineOf, pollDelaySeconds } from '../../../lambdas/domain/deadlines.ts';
import { READY_TIMEOUT_MAX_SECONDS } from '../../../lambdas/domain/plan.ts';
import type { Plan } from '../../../schemas/types.generated.ts';

const plan = { readyTimeoutSeconds: 600 } as Plan;

describe('createDeadline', () => {
  it('is ready_timeout after the create was accepted', () => {
    expect(createDeadline({ createdAt: '2026-01-01T00:00:00.000Z', plan })).toBe('2026-01-01T00:10:00.000Z');
  });
});

describe('deadlineOf', () => {
  it('is the recorded deadline, or a create’s for records written before deadlines were', () => {
    const createdAt = '2026-01-01T00:00:00.000Z';

    expect(deadlineOf({ createdAt, plan, deadline: '2026-01-01T01:00:00.000Z' })).toBe(
      Date.parse('2026-01-01T01:00:00.000Z'),
    );
    expect(deadlineOf({ createdAt, plan })).toBe(Date.parse('2026-01-01T00:10:00.000Z'));
  });
});

describe('pollDelaySeconds', () => {
  it('waits 2 s for the first half minute, then 5 s, then 10 s, then 30 s after ten minutes', () => {
    const hour = 3_600_000;
    expect(
      [0, 29_999, 30_000, 119_999, 120_000, 599_999, 600_000].map((ms) => pollDelaySeconds(ms, hour)),
    ).toEqual([2, 2, 5, 5, 10, 10, 30]);
  });

  it('never waits past the deadline, and at least a second', () => {
    expect(pollDelaySeconds(700_000, 12_500)).toBe(13);
    expect(pollDelaySeconds(700_000, 400)).toBe(1);
    expect(pollDelaySeconds(700_000, -5_000)).toBe(1);
  });

  it('bounds the looks of the longest ready_timeout', () => {
    let looks = 0;
    for (let waited = 0; waited < READY_TIMEOUT_MAX_SECONDS * 1000; looks++) {
      waited += pollDelaySeconds(waited, READY_TIMEOUT_MAX_SECONDS * 1000 - waited) * 1000;
    }
    // 15 + 18 + 48 looks in the first ten minutes, then one every 30 s.
    expect(looks).toBe(81 + (READY_TIMEOUT_MAX_SECONDS - 600) / 30);
  });
});
