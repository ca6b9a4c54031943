import yoctoSpinner, { type Spinner } from 'yocto-spinner';
import type { IOStreams } from './factory.ts';

/**
 * Progress on stderr. On a terminal: a spinner whose text is the current
 * step, the finished steps kept above it. Otherwise: one plain line per step,
 * `[  3.2s] launching scheduler`.
 */
export interface Progress {
  /** A new step has begun. */
  update(message: string): void;
  /** Ends the progress, marking the last step done. */
  succeed(): void;
  /** Ends the progress, marking the last step failed. */
  fail(): void;
  /** Ends the progress, leaving the last step as it was. */
  stop(): void;
}

export interface ProgressOptions {
  io: IOStreams;
  now: () => number;
  /** Elapsed times are measured from here; defaults to now. */
  startedAt?: number;
}

export function stamp(elapsedMs: number): string {
  return `[${(Math.max(0, elapsedMs) / 1000).toFixed(1).padStart(5)}s]`;
}

export function createProgress({ io, now, startedAt = now() }: ProgressOptions): Progress {
  const line = (message: string) => `${stamp(now() - startedAt)} ${message}`;
  if (!io.isStderrTTY) {
    return {
      update: (message) => {
        io.stderr.write(`${line(message)}\n`);
      },
      succeed() {},
      fail() {},
      stop() {},
    };
  }

  let spinner: Spinner | undefined;
  let current: string | undefined;
  return {
    update(message) {
      if (spinner && current !== undefined) spinner.success(current);
      current = line(message);
      spinner = yoctoSpinner({ text: current, stream: io.stderr, handleSignals: false }).start();
    },
    succeed() {
      if (spinner && current !== undefined) spinner.success(current);
      spinner = undefined;
    },
    fail() {
      if (spinner && current !== undefined) spinner.error(current);
      spinner = undefined;
    },
    stop() {
      if (spinner && current !== undefined) spinner.stop(current);
      spinner = undefined;
    },
  };
}
