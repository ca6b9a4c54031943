/**
 * What GetCommandInvocation answers, as an InvocationReport: SSM's statuses
 * as bilbo's invocation states, its response code as an exit code, and its
 * inline output as the bytes after the caller's offsets.
 */
import { constants } from 'node:os';
import type { GetCommandInvocationCommandOutput } from '@aws-sdk/client-ssm';
import type { InvocationState } from '../../../schemas/types.generated.ts';
import type { InvocationReport, OutputOffsets } from '../../domain/ports.ts';

/**
 * How much of each stream SSM keeps inline: 24,000 of stdout and 8,000 of
 * stderr (the API reference and the agent's own limits; not 24,000 each).
 */
export const INLINE_OUTPUT_LIMITS = { stdout: 24_000, stderr: 8_000 } as const;

/** What agents have appended where they cut a stream. */
const TRUNCATION_MARKERS = ['--output truncated--', '---Output truncated---', '---Error truncated----'];

interface Outcome {
  state: InvocationState;
  reason?: string;
}

/** StatusDetails, without its spaces ("Delivery Timed Out" → DeliveryTimedOut), says more than Status. */
const BY_DETAILS: Record<string, Outcome> = {
  DeliveryTimedOut: {
    state: 'timed-out',
    reason:
      'the instance did not pick the command up before its delivery timeout (stopped, or SSM agent not connected)',
  },
  ExecutionTimedOut: { state: 'timed-out', reason: 'the command ran past its timeout and was stopped' },
  Undeliverable: {
    state: 'lost',
    reason:
      'SSM could not deliver the command: the instance is gone, stopped, or its SSM agent is not responding',
  },
  Terminated: {
    state: 'lost',
    reason: 'SSM stopped the invocation before it ran (the command’s error limit)',
  },
};

const BY_STATUS: Record<string, Outcome> = {
  Pending: { state: 'pending' },
  Delayed: { state: 'pending', reason: 'SSM could not reach the instance yet and will try again' },
  InProgress: { state: 'running' },
  Success: { state: 'succeeded' },
  Failed: { state: 'failed' },
  Cancelled: { state: 'cancelled', reason: 'the command was cancelled' },
  Cancelling: { state: 'cancelled', reason: 'the command was cancelled' },
  TimedOut: { state: 'timed-out', reason: 'the command timed out' },
};

export function outcomeOf(status: string | undefined, details: string | undefined): Outcome {
  const detailed = BY_DETAILS[(details ?? '').replaceAll(' ', '')];
  if (detailed) return detailed;
  const known = BY_STATUS[status ?? ''];
  if (known) return known;
  // A status this code does not know yet: never end a command on a guess.
  return { state: 'running', reason: `SSM reports ${status ?? 'no status'} (${details ?? 'no details'})` };
}

/** Signal numbers to names; the first name wins where two share a number (SIGABRT, not SIGIOT). */
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, number] of Object.entries(constants.signals)) {
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name);
}

/**
 * The exit code once the script ended on its own (SSM answers -1 when there
 * is none). 128+N is read as signal N, as bash reports it: a script that
 * calls `exit 137` itself cannot be told apart.
 */
function exitOf(
  state: InvocationState,
  responseCode: number | undefined,
): Pick<InvocationReport, 'exitCode' | 'signal'> {
  if (state !== 'succeeded' && state !== 'failed') return {};
  if (
    responseCode === undefined ||
    !Number.isInteger(responseCode) ||
    responseCode < 0 ||
    responseCode > 255
  ) {
    return {};
  }
  const signal = responseCode > 128 ? SIGNAL_NAMES.get(responseCode - 128) : undefined;
  return signal ? { exitCode: responseCode, signal } : { exitCode: responseCode };
}

/**
 * Whether SSM kept only part of a stream. SSM documents its limits in
 * characters while agents have cut in bytes, so a stream counts as cut
 * when its UTF-8 length reaches the limit, or it ends with an agent's
 * truncation marker. Output just under the limit in characters but over it
 * in bytes (non-ASCII text) is reported truncated although it may be whole:
 * saying so wrongly is the safer mistake.
 */
function wasCut(content: string, bytes: number, limit: number): boolean {
  return bytes >= limit || TRUNCATION_MARKERS.some((marker) => content.trimEnd().endsWith(marker));
}

const encoder = new TextEncoder();

function bytesAfter(bytes: Uint8Array, from: number, limitBytes: number): Uint8Array {
  const start = Math.min(Math.max(0, Math.floor(from)), bytes.length);
  const end = Math.min(bytes.length, start + Math.max(0, Math.floor(limitBytes)));
  return bytes.slice(start, end);
}

/**
 * The report of one GetCommandInvocation answer. SSM fills the output in
 * only once the plugin has run: while an invocation is pending or running
 * both streams are usually empty, and the whole output appears at the end.
 */
export function reportOf(
  answer: GetCommandInvocationCommandOutput,
  from: OutputOffsets,
  limitBytes: number,
): InvocationReport {
  const outcome = outcomeOf(answer.Status, answer.StatusDetails);
  const stdoutText = answer.StandardOutputContent ?? '';
  const stderrText = answer.StandardErrorContent ?? '';
  const stdout = encoder.encode(stdoutText);
  const stderr = encoder.encode(stderrText);
  const truncated =
    wasCut(stdoutText, stdout.length, INLINE_OUTPUT_LIMITS.stdout) ||
    wasCut(stderrText, stderr.length, INLINE_OUTPUT_LIMITS.stderr);
  const exit = exitOf(outcome.state, answer.ResponseCode);
  const reason =
    outcome.reason ??
    (outcome.state === 'failed' && exit.exitCode === undefined
      ? 'SSM reports a failure without an exit code'
      : undefined);
  return {
    state: outcome.state,
    ...exit,
    stdout: bytesAfter(stdout, from.stdout, limitBytes),
    stderr: bytesAfter(stderr, from.stderr, limitBytes),
    totalBytes: { stdout: stdout.length, stderr: stderr.length },
    ...(truncated ? { truncated } : {}),
    ...(reason ? { reason } : {}),
  };
}
