import type { SweepReport } from '../../schemas/types.generated.ts';

/** A sweep's report that destroyed one idle cluster, with what the test sets. */
export function aSweepReport(overrides: Partial<SweepReport> = {}): SweepReport {
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    dryRun: false,
    checked: 2,
    idle: 1,
    destroyed: 1,
    paused: 0,
    failed: 0,
    unknown: 0,
    orphansRemoved: 0,
    errors: 0,
    durationMs: 1250,
    actions: [{ cluster: 'analytics', action: 'destroy', reason: 'reaped: idle for 61 min' }],
    ...overrides,
  };
}
