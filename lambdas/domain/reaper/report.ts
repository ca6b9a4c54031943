/**
 * A sweep's report as a workflow's output: Step Functions passes at most
 * 256 KiB between states, and a sweep over thousands of clusters may act
 * on many. The first actions are listed, each reason cut to a line's
 * length, and the rest counted; the counts stay whole, and every action is
 * an event on its cluster anyway.
 */
import type { SweepReport } from '../../../schemas/types.generated.ts';

/** Actions listed in a report: with reasons of at most REASON_MAX_CHARS, about 120 KB. */
export const LISTED_ACTIONS_MAX = 200;
export const REASON_MAX_CHARS = 500;

export function capActions(report: SweepReport, max: number = LISTED_ACTIONS_MAX): SweepReport {
  const listed = report.actions.slice(0, max).map((action) => ({
    ...action,
    reason:
      action.reason.length > REASON_MAX_CHARS
        ? `${action.reason.slice(0, REASON_MAX_CHARS - 1)}…`
        : action.reason,
  }));
  const notListed = report.actions.length - listed.length + (report.actionsNotListed ?? 0);
  const { actionsNotListed: _, ...rest } = report;
  return { ...rest, actions: listed, ...(notListed > 0 ? { actionsNotListed: notListed } : {}) };
}
