/**
 * The one place above the machine providers where transient failures are
 * retried (dask-gateway's model): ProviderBusyError only, with exponential
 * backoff and full jitter. Everything else fails at once. A launch is
 * retried with the same request, so the same idempotency token: EC2 answers
 * the first call's instances instead of launching again.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { ProviderBusyError } from '../domain/errors.ts';
import type { LaunchRequest, Machine, MachineProvider } from '../domain/ports.ts';

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

type Settings = Required<Omit<RetryOptions, 'onRetry'>> & Pick<RetryOptions, 'onRetry'>;

/**
 * Full jitter: a uniform wait between 0 and the exponential ceiling
 * min(maxTimeout, minTimeout × factor^(attempt−1)), so many clients throttled
 * together do not come back together.
 */
export function backoffDelay(attempt: number, settings: Omit<Settings, 'sleep' | 'retries'>): number {
  const ceiling = Math.min(settings.maxTimeout, settings.minTimeout * settings.factor ** (attempt - 1));
  return Math.floor(settings.random() * ceiling);
}

export class RetryingMachineProvider implements MachineProvider {
  readonly name: string;
  private readonly settings: Settings;

  constructor(
    private readonly inner: MachineProvider,
    options: RetryOptions = {},
  ) {
    this.name = inner.name;
    this.settings = {
      retries: options.retries ?? 5,
      minTimeout: options.minTimeout ?? 200,
      maxTimeout: options.maxTimeout ?? 5_000,
      factor: options.factor ?? 2,
      random: options.random ?? Math.random,
      sleep: options.sleep ?? ((ms) => sleepFor(ms)),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    };
  }

  launch(request: LaunchRequest): Promise<Machine[]> {
    return this.retry('launch', () => this.inner.launch(request));
  }

  describe(ids: readonly string[]): Promise<Machine[]> {
    return this.retry('describe', () => this.inner.describe(ids));
  }

  stop(ids: readonly string[]): Promise<void> {
    return this.retry('stop', () => this.inner.stop(ids));
  }

  start(ids: readonly string[]): Promise<void> {
    return this.retry('start', () => this.inner.start(ids));
  }

  terminate(ids: readonly string[]): Promise<void> {
    return this.retry('terminate', () => this.inner.terminate(ids));
  }

  findByCluster(clusterId: string): Promise<Machine[]> {
    return this.retry('findByCluster', () => this.inner.findByCluster(clusterId));
  }

  private retry<T>(method: string, call: () => Promise<T>): Promise<T> {
    const { retries, sleep, onRetry } = this.settings;
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
        // p-retry counts the attempts; the waits are ours, for full jitter and an injectable sleep.
        minTimeout: 0,
        maxTimeout: 0,
        onFailedAttempt: async (failure) => {
          if (failure.retriesLeft <= 0 || !(failure instanceof ProviderBusyError)) return;
          const delayMs = backoffDelay(failure.attemptNumber, this.settings);
          onRetry?.({ method, attempt: failure.attemptNumber, delayMs, error: failure });
          if (delayMs > 0) await sleep(delayMs);
        },
      },
    );
  }
}
