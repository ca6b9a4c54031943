/**
 * What a sweep leaves in its Lambda's logs: one structured summary line and,
 * for a sweep that acted, its counts as CloudWatch embedded-metric-format
 * documents on stdout, which is how Lambda's log delivery publishes them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  SWEEP_COUNTS,
  SWEEP_METRICS_NAMESPACE,
  summarizeSweep,
  sweepMetrics,
} from '../../../lambdas/handlers/sweep-summary.ts';
import { aSweepReport } from '../../support/sweep-reports.ts';

const REPORT = aSweepReport({
  checked: 12,
  idle: 3,
  destroyed: 2,
  paused: 1,
  failed: 1,
  unknown: 4,
  orphansRemoved: 5,
  errors: 1,
  durationMs: 4200,
});

/** Every line written to stdout meanwhile, parsed. */
let lines: Array<Record<string, unknown>>;

beforeEach(() => {
  lines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

function emfDocuments() {
  return lines.filter((line) => '_aws' in line);
}

describe('summarizeSweep', () => {
  it('publishes every count and the duration as metrics of the deployment, in one EMF document', () => {
    summarizeSweep(
      REPORT,
      { dryRun: false, requestedBy: 'schedule' },
      {
        logger: new Logger({ serviceName: 'bilbo', logLevel: 'INFO' }),
        metrics: sweepMetrics('0a1b2c3d-deployment'),
      },
    );

    const [document, ...others] = emfDocuments();
    expect(others).toEqual([]);
    const aws = document!._aws as {
      CloudWatchMetrics: Array<{
        Namespace: string;
        Dimensions: string[][];
        Metrics: Array<{ Name: string; Unit: string }>;
      }>;
    };
    const [directive] = aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe(SWEEP_METRICS_NAMESPACE);
    expect(directive!.Dimensions).toEqual([expect.arrayContaining(['service', 'deployment'])]);
    expect(directive!.Metrics).toEqual(
      expect.arrayContaining([
        ...SWEEP_COUNTS.map((name) => ({ Name: name, Unit: 'Count' })),
        { Name: 'durationMs', Unit: 'Milliseconds' },
      ]),
    );
    expect(document).toMatchObject({
      service: 'reaper',
      deployment: '0a1b2c3d-deployment',
      checked: 12,
      idle: 3,
      destroyed: 2,
      paused: 1,
      failed: 1,
      unknown: 4,
      orphansRemoved: 5,
      errors: 1,
      durationMs: 4200,
    });
  });

  it('logs one structured summary line, with who asked and what it did', () => {
    summarizeSweep(
      REPORT,
      { dryRun: false, requestedBy: 'schedule' },
      {
        logger: new Logger({ serviceName: 'bilbo', logLevel: 'INFO' }),
        metrics: sweepMetrics('d'),
      },
    );

    const summaries = lines.filter((line) => line.message === 'sweep summary');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.sweep).toMatchObject({
      checked: 12,
      destroyed: 2,
      orphansRemoved: 5,
      durationMs: 4200,
      requestedBy: 'schedule',
      actions: ['analytics: destroy (reaped: idle for 61 min)'],
    });
  });

  it('publishes no metrics for a dry run, whose counts are only what it would do', () => {
    summarizeSweep(
      { ...REPORT, dryRun: true },
      { dryRun: true, requestedBy: 'arn:aws:iam::1:user/a' },
      {
        logger: new Logger({ serviceName: 'bilbo', logLevel: 'INFO' }),
        metrics: sweepMetrics('d'),
      },
    );

    expect(emfDocuments()).toEqual([]);
    expect(lines.filter((line) => line.message === 'sweep summary')).toHaveLength(1);
  });
});
