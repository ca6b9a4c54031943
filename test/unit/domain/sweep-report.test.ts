import { describe, expect, it } from 'vitest';
import { capActions, LISTED_ACTIONS_MAX, REASON_MAX_CHARS } from '../../../lambdas/domain/reaper/report.ts';
import type { SweepReport } from '../../../schemas/types.generated.ts';
import { assertValid, schemaIds } from '../../../schemas/validate.ts';
import { aSweepReport } from '../../support/sweep-reports.ts';

function reportWith(actions: number, reason = 'reaped: idle for 61 min'): SweepReport {
  return aSweepReport({
    checked: actions,
    idle: actions,
    destroyed: actions,
    durationMs: 420,
    actions: Array.from({ length: actions }, (_, i) => ({
      cluster: `c${i}`,
      action: 'destroy' as const,
      reason,
    })),
  });
}

describe('capActions', () => {
  it('leaves a report with few actions as it is', () => {
    expect(capActions(reportWith(3))).toEqual(reportWith(3));
  });

  it('lists the first actions and counts the rest, keeping every count whole', () => {
    const capped = capActions(reportWith(LISTED_ACTIONS_MAX + 25));

    expect(capped.actions).toHaveLength(LISTED_ACTIONS_MAX);
    expect(capped.actions[0]!.cluster).toBe('c0');
    expect(capped.actionsNotListed).toBe(25);
    expect(capped.destroyed).toBe(LISTED_ACTIONS_MAX + 25);
    expect(() => assertValid(schemaIds.sweepReport, capped, 'report')).not.toThrow();
  });

  it('cuts long reasons to a line, so 10,000 actions still make a small workflow output', () => {
    const capped = capActions(reportWith(10_000, 'x'.repeat(20_000)));

    expect(capped.actions[0]!.reason).toHaveLength(REASON_MAX_CHARS);
    expect(capped.actions[0]!.reason.endsWith('…')).toBe(true);
    // Step Functions passes at most 256 KiB between states.
    expect(Buffer.byteLength(JSON.stringify(capped))).toBeLessThan(160 * 1024);
  });
});
