/**
 * What a sweep leaves behind besides its report: one structured log line
 * (Powertools logger, as every handler logs) and, for a sweep that acted
 * (not a dry run), its counts as CloudWatch metrics in the embedded metric
 * format (Powertools metrics: one JSON document on stdout, which Lambda's
 * log delivery turns into metrics, with no call to CloudWatch).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SweepReport } from '../../schemas/types.generated.ts';
import type { WorkflowInputs } from '../domain/workflows.ts';

/** The metrics' namespace; each carries its deployment as a dimension. */
export const SWEEP_METRICS_NAMESPACE = 'bilbo';

/** The report's counts published as metrics, by their report field's name. */
export const SWEEP_COUNTS = [
  'checked',
  'idle',
  'destroyed',
  'paused',
  'failed',
  'orphansRemoved',
  'unknown',
  'errors',
] as const satisfies ReadonlyArray<keyof SweepReport>;

/** The reaper's metrics of one deployment. */
export function sweepMetrics(deploymentId: string): Metrics {
  return new Metrics({
    namespace: SWEEP_METRICS_NAMESPACE,
    serviceName: 'reaper',
    defaultDimensions: { deployment: deploymentId },
  });
}

export function summarizeSweep(
  report: SweepReport,
  input: WorkflowInputs['sweep'],
  out: { logger: Logger; metrics: Metrics },
): void {
  const { actions, ...counts } = report;
  out.logger.info('sweep summary', {
    sweep: {
      ...counts,
      requestedBy: input.requestedBy ?? 'unknown',
      actions: actions.map((action) => `${action.cluster}: ${action.action} (${action.reason})`),
    },
  });
  // A dry run's counts are what it would do: they would read as done in a graph.
  if (report.dryRun) return;
  for (const count of SWEEP_COUNTS) out.metrics.addMetric(count, MetricUnit.Count, report[count]);
  out.metrics.addMetric('durationMs', MetricUnit.Milliseconds, report.durationMs);
  out.metrics.publishStoredMetrics();
}
