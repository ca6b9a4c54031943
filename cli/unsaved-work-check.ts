/**
 * Destroy's look at the notebook before it goes: runs bilbo's unsaved-work
 * check there and says what destroying would lose, or why it cannot tell.
 */
import {
  parseUnsavedWork,
  type UnsavedWorkFinding,
  type UnsavedWorkReport,
} from '../lambdas/domain/commands/unsaved-work.ts';
import { escapeControlCharacters } from '../schemas/printable.ts';
import type { Cluster } from '../schemas/types.generated.ts';
import type { BilboApi } from './api/client.ts';
import { startAndFollow } from './command-follow.ts';
import { createCollectingSink } from './command-output.ts';
import { ApiRequestError, CancelledError, RemoteCommandInterruptedError } from './errors.ts';
import type { Factory } from './factory.ts';

export type UnsavedWorkOutcome =
  | { kind: 'clean'; report: UnsavedWorkReport }
  | { kind: 'found'; report: UnsavedWorkReport }
  | { kind: 'unknown'; why: string };

export function hasNotebook(cluster: Cluster): boolean {
  return cluster.plan?.roles?.some((role) => role.role === 'notebook') === true;
}

/** Runs the check on the cluster's notebook; Ctrl-C cancels it and the destroy (CancelledError). */
export async function checkUnsavedWork(
  f: Pick<Factory, 'sleep' | 'onInterrupt' | 'now'>,
  api: BilboApi,
  cluster: Cluster,
): Promise<UnsavedWorkOutcome> {
  if (cluster.state !== 'READY') return { kind: 'unknown', why: `the cluster is ${cluster.state}` };
  const sink = createCollectingSink();
  let command: Awaited<ReturnType<typeof startAndFollow>>;
  try {
    command = await startAndFollow(f, api, cluster.name, { check: 'unsaved-work' }, sink);
  } catch (error) {
    if (error instanceof RemoteCommandInterruptedError) {
      throw new CancelledError(`${error.message}; cluster ${cluster.name} was not destroyed`, {
        cause: error,
      });
    }
    if (error instanceof ApiRequestError) return { kind: 'unknown', why: error.message };
    throw error;
  }
  const report = parseUnsavedWork(sink.stdout);
  if (report.findings.length > 0) return { kind: 'found', report };
  if (!report.complete) {
    const how = command.reason ? `${command.state}: ${command.reason}` : command.state;
    return { kind: 'unknown', why: `the check did not finish (${how})` };
  }
  if (report.problems.length > 0) {
    return { kind: 'unknown', why: report.problems.map(problemText).join('; ') };
  }
  return { kind: 'clean', report };
}

/** What the user reads before the question: nothing when the check found nothing. */
export function describeOutcome(name: string, outcome: UnsavedWorkOutcome): string {
  if (outcome.kind === 'clean') return '';
  if (outcome.kind === 'unknown') {
    return `could not check the notebook of ${name} for unsaved work: ${escapeControlCharacters(outcome.why)}\n`;
  }
  const { report } = outcome;
  const byRepository = new Map<string, UnsavedWorkFinding[]>();
  for (const finding of report.findings) {
    byRepository.set(finding.repository, [...(byRepository.get(finding.repository) ?? []), finding]);
  }
  let text = `destroying ${name} would lose this work in its notebook's git repositories:\n`;
  for (const [repository, findings] of byRepository) {
    text += `  ${escapeControlCharacters(repository)}: ${findings.map(findingText).join(', ')}\n`;
  }
  if (!report.complete) text += '  (the check did not finish: there may be more)\n';
  for (const problem of report.problems) text += `  (${escapeControlCharacters(problemText(problem))})\n`;
  return text;
}

const NOUNS: Record<UnsavedWorkFinding['kind'], [string, string]> = {
  staged: ['staged file', 'staged files'],
  modified: ['modified file', 'modified files'],
  untracked: ['untracked file', 'untracked files'],
  stash: ['stash', 'stashes'],
  unpushed: ['commit on no remote branch', 'commits on no remote branch'],
};

function findingText(finding: UnsavedWorkFinding): string {
  const [one, many] = NOUNS[finding.kind];
  return `${finding.count} ${finding.count === 1 ? one : many}`;
}

function problemText(problem: UnsavedWorkReport['problems'][number]): string {
  return problem.repository === undefined ? problem.message : `${problem.repository}: ${problem.message}`;
}
