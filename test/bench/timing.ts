/**
 * Clock, polling and statistics for the benchmark. Times are Date.now()
 * milliseconds so that they compare directly with the record's ISO
 * timestamps (createdAt, dashboardAnsweredAt, readyAt), which come from the
 * same clock in the same process.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const now = (): number => Date.now();

export interface Seen<T> {
  value: T;
  /** When the answer that satisfied the poll arrived. */
  at: number;
}

/**
 * Calls `look` every `intervalMs` (counted from the end of one look to the
 * start of the next) until it returns something other than undefined.
 */
export async function pollUntil<T>(
  look: () => Promise<T | undefined>,
  intervalMs: number,
  signal: AbortSignal,
): Promise<Seen<T>> {
  for (;;) {
    signal.throwIfAborted();
    const value = await look();
    const at = now();
    if (value !== undefined) return { value, at };
    await sleep(intervalMs, undefined, { signal });
  }
}

export interface Summary {
  median: number;
  runs: number[];
}

export function summarize(values: readonly number[]): Summary {
  return { median: median(values), runs: [...values] };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return round1(value);
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
