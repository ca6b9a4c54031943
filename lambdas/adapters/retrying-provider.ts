/**
 * The one place above the machine providers where transient failures are
 * retried (dask-gateway's model): ProviderBusyError only, with exponential
 * backoff and full jitter. Everything else fails at once. A launch is
 * retried with the same request, so the same idempotency token: EC2 answers
 * the first call's instances instead of launching again.
 */
import type { LaunchRequest, Machine, MachineProvider } from '../domain/ports.ts';
import { type RetryOptions, type RetrySettings, retrySettings, retryWhileBusy } from './retry-busy.ts';

export { backoffDelay, type RetryAttempt, type RetryOptions } from './retry-busy.ts';

export class RetryingMachineProvider implements MachineProvider {
  readonly name: string;
  private readonly settings: RetrySettings;

  constructor(
    private readonly inner: MachineProvider,
    options: RetryOptions = {},
  ) {
    this.name = inner.name;
    this.settings = retrySettings(options);
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
    return retryWhileBusy(method, call, this.settings);
  }
}
