/**
 * The retry loop shared by the decorators that sit above providers
 * (RetryingMachineProvider, RetryingRemoteCommandRunner): ProviderBusyError
 * only, with exponential backoff and full jitter. Everything else fails at
 * once. p-retry counts the attempts; the waits are ours, for full jitter
 * and an injectable sleep.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { ProviderBusyError } from '../domain/errors.ts';

export interface RetryAttempt {
  method: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long until the next attempt. */
  delayMs: number;
  error: ProviderBusyError;
}

export interface RetryOptions {
  /** Retries after the first attempt. @default 5 */
  retries?: number;
  /** The backoff's first ceiling, in ms. @default 200 */
  minTimeout?: number;
  /** The backoff's largest ceiling, in ms. @default 5000 */
  maxTimeout?: number;
  /** @default 2 */
  factor?: number;
  /** A number in [0, 1), for the jitter. @default Math.random */
  random?: () => number;
  /** @default node's timers/promises setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Told of every failed attempt that will be retried. */
  onRetry?: (attempt: RetryAttempt) => void;
}

export type RetrySettings = Required<Omit<RetryOptions, 'onRetry'>> & Pick<RetryOptions, 'onRetry'>;

export function retrySettings(options: RetryOptions = {}): RetrySettings {
  return {
    retries: options.retries ?? 5,
    minTimeout: options.minTimeout ?? 200,
    maxTimeout: options.maxTimeout ?? 5_000,
    factor: options.factor ?? 2,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? ((ms) => sleepFor(ms)),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  };
}

/**
 * Full jitter: a uniform wait between 0 and the exponential ceiling
 * min(maxTimeout, minTimeout × factor^(attempt−1)), so many clients throttled
 * together do not come back together.
 */
export function backoffDelay(attempt: number, settings: Omit<RetrySettings, 'sleep' | 'retries'>): number {
  const ceiling = Math.min(settings.maxTimeout, settings.minTimeout * settings.factor ** (attempt - 1));
  return Math.floor(settings.random() * ceiling);
}

/** Calls `call` until it answers, fails with anything but ProviderBusyError, or the retries run out. */
export function retryWhileBusy<T>(
  method: string,
  call: () => Promise<T>,
  settings: RetrySettings,
): Promise<T> {
  const { retries, sleep, onRetry } = settings;
  return pRetry(
    async () => {
      try {
        return await call();
      } catch (error) {
        // AbortError hands p-retry the original error to reject with, untouched.
        if (!(error instanceof ProviderBusyError) && error instanceof Error) throw new AbortError(error);
        throw error;
      }
    },
    {
      retries,
      minTimeout: 0,
      maxTimeout: 0,
      onFailedAttempt: async (failure) => {
        if (failure.retriesLeft <= 0 || !(failure instanceof ProviderBusyError)) return;
        const delayMs = backoffDelay(failure.attemptNumber, settings);
        onRetry?.({ method, attempt: failure.attemptNumber, delayMs, error: failure });
        if (delayMs > 0) await sleep(delayMs);
      },
    },
  );
}
