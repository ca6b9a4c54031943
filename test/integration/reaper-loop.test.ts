/**
 * The local plane's reaper: each sweep is the sweep workflow, as `cdk synth`
 * defines it, run by the LocalWorkflowRunner over the sweep step's handler;
 * the loop runs one at a time, every period, until stopped.
 */
import { describe, expect, it, vi } from 'vitest';
import { startReaperLoop, sweepSummary, sweepWorkflow } from '../../cli/local/reaper-loop.ts';
import { type Handler, LocalWorkflowRunner } from '../../cli/local/workflow-runner.ts';
import type { SweepReport } from '../../schemas/types.generated.ts';
import { aSweepReport } from '../support/sweep-reports.ts';

const REPORT = aSweepReport({
  durationMs: 12,
  actions: [{ cluster: 'quiet', action: 'destroy', reason: 'reaped: idle for 61 min' }],
});

function runnerOver(sweep: (payload: { dryRun: boolean; requestedBy?: string }) => Promise<unknown>) {
  return new LocalWorkflowRunner({
    handlers: (task): Handler => {
      if (task !== 'sweep') throw new Error(`no ${task} in these tests`);
      return async (payload: { dryRun: boolean; requestedBy?: string }) => sweep(payload);
    },
  });
}

let ids = 0;
const newSweepId = () => `sweep-${(++ids).toString(16).padStart(16, '0')}`;

describe('sweepWorkflow', () => {
  it('runs one sweep as the sweep workflow and answers its report', async () => {
    const asked: unknown[] = [];
    const runner = runnerOver(async (payload) => {
      asked.push(payload);
      return { ...REPORT, dryRun: payload.dryRun };
    });

    const report = await sweepWorkflow(runner, { newSweepId, requestedBy: 'bilbo local' })({ dryRun: true });

    expect(report).toEqual({ ...REPORT, dryRun: true });
    expect(asked).toEqual([{ dryRun: true, requestedBy: 'bilbo local' }]);
    expect(runner.executions().map((execution) => [execution.workflow, execution.status])).toEqual([
      ['sweep', 'SUCCEEDED'],
    ]);
  });

  it('fails with how the workflow ended when the sweep step fails', async () => {
    const runner = runnerOver(async () => {
      throw new Error('the table is gone');
    });

    await expect(sweepWorkflow(runner, { newSweepId, requestedBy: 'bilbo local' })({})).rejects.toThrow(
      'the sweep workflow ended FAILED (Error: the table is gone)',
    );
  });
});

describe('startReaperLoop', () => {
  it('sweeps once every period, never two at once, and reports each outcome until stopped', async () => {
    vi.useFakeTimers();
    try {
      let running = 0;
      let most = 0;
      let release: () => void = () => {};
      const reports: Array<SweepReport | Error> = [];
      const loop = startReaperLoop({
        everyMs: 1000,
        sweep: async () => {
          running += 1;
          most = Math.max(most, running);
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          running -= 1;
          return REPORT;
        },
        report: (outcome) => reports.push(outcome),
      });

      await vi.advanceTimersByTimeAsync(1000);
      expect(running).toBe(1);
      // A slow sweep: the next is timed from its end, so none starts meanwhile.
      await vi.advanceTimersByTimeAsync(5000);
      expect(most).toBe(1);
      release();
      await vi.advanceTimersByTimeAsync(0);
      expect(reports).toEqual([REPORT]);
      await vi.advanceTimersByTimeAsync(1000);
      expect(running).toBe(1);
      const stopped = loop.stop();
      release();
      await stopped;
      await vi.advanceTimersByTimeAsync(10_000);

      expect(reports).toEqual([REPORT, REPORT]);
      expect(running).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports a sweep that failed, and goes on', async () => {
    vi.useFakeTimers();
    try {
      const reports: Array<SweepReport | Error> = [];
      const sweep = vi.fn(async () => {
        throw new Error('the sweep workflow ended FAILED');
      });
      const loop = startReaperLoop({ everyMs: 1000, sweep, report: (outcome) => reports.push(outcome) });

      await vi.advanceTimersByTimeAsync(2500);
      await loop.stop();

      expect(sweep).toHaveBeenCalledTimes(2);
      expect(reports).toEqual([expect.any(Error), expect.any(Error)]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('sweepSummary', () => {
  it('is one line: the counts, then what it did to which cluster', () => {
    expect(sweepSummary(REPORT)).toBe(
      'reaper: {"dryRun":false,"checked":2,"idle":1,"destroyed":1,"paused":0,"failed":0,"unknown":0,"orphansRemoved":0,"errors":0,"durationMs":12}; quiet: destroy (reaped: idle for 61 min)',
    );
  });
});
