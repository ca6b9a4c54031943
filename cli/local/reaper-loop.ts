/**
 * The local plane's reaper: one sweep every period, never two at once
 * (the next is timed from the end of the last), stopped with the plane.
 * Each sweep is the sweep workflow, run by the plane's workflow runner as
 * Step Functions runs it on AWS.
 */

import type { SweepOptions } from '../../lambdas/domain/use-cases/sweep-clusters.ts';
import { WORKFLOWS } from '../../lambdas/domain/workflows.ts';
import type { SweepReport } from '../../schemas/types.generated.ts';
import type { LocalWorkflowRunner } from './workflow-runner.ts';

export interface ReaperLoop {
  /** No sweep starts after this; resolves once a sweep under way has ended. */
  stop(): Promise<void>;
}

export interface ReaperLoopOptions {
  everyMs: number;
  sweep(options: SweepOptions): Promise<SweepReport>;
  /** Each sweep's report, once it ended (or why it could not run). */
  report(outcome: SweepReport | Error): void;
}

export function startReaperLoop(options: ReaperLoopOptions): ReaperLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const next = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = options
        .sweep({})
        .then(options.report, (error: unknown) =>
          options.report(error instanceof Error ? error : new Error(String(error))),
        )
        .finally(next);
    }, options.everyMs);
    timer.unref();
  };
  next();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** The sweep's one summary line: its counts, and what it did to which cluster. */
export function sweepSummary(report: SweepReport): string {
  const { actions, startedAt: _, ...counts } = report;
  const done = actions.map((action) => `${action.cluster}: ${action.action} (${action.reason})`);
  return `reaper: ${JSON.stringify(counts)}${done.length > 0 ? `; ${done.join('; ')}` : ''}`;
}

/** One sweep as the sweep workflow: started through the runner, its report once it ended. */
export function sweepWorkflow(
  runner: Pick<LocalWorkflowRunner, 'start' | 'ended'>,
  options: { newSweepId: () => string; requestedBy: string },
): (sweep: SweepOptions) => Promise<SweepReport> {
  return async (sweep) => {
    const executionName = WORKFLOWS.sweep.executionName({ sweepId: options.newSweepId() });
    const arn = await runner.start('sweep', executionName, {
      dryRun: sweep.dryRun === true,
      requestedBy: options.requestedBy,
    });
    const ended = await runner.ended(arn);
    if (ended?.status !== 'SUCCEEDED') {
      const why = [ended?.error, ended?.cause].filter(Boolean).join(': ');
      throw new Error(`the sweep workflow ended ${ended?.status ?? 'unknown'}${why ? ` (${why})` : ''}`);
    }
    return ended.output as SweepReport;
  };
}
