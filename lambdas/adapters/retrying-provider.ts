/**
 * The one place above the machine providers where transient failures are
 * retried (dask-gateway's model): ProviderBusyError only, with exponential
 * backoff and full jitter. Everything else fails at once. A launch is
 * retried with the same request, so the same idempotency token: EC2 answers
 * the first call's instances instead of launching again.
 */
import { MachinesNotNamedError, ProviderBusyError } from '../domain/errors.ts';
import type {
  LaunchRequest,
  LooseVolume,
  Machine,
  MachineName,
  MachineProvider,
  ManagedMachine,
} from '../domain/ports.ts';
import { type RetryOptions, type RetrySettings, retrySettings, retryWhileBusy } from './retry-busy.ts';

export { backoffDelay, type RetryAttempt, type RetryOptions } from './retry-busy.ts';

/** How machines are named (nameMachines): one call per machine, a few at a time, within a budget. */
export interface NamingOptions {
  /** Names asked for at once. @default 4 */
  concurrency?: number;
  /** No name is started after this long, in ms (the caller's own time is limited). @default 60000 */
  budgetMs?: number;
  /** @default Date.now */
  now?: () => number;
}

export interface RetryingMachineProviderOptions extends RetryOptions {
  naming?: NamingOptions;
}

export class RetryingMachineProvider implements MachineProvider {
  readonly name: string;
  private readonly settings: RetrySettings;
  private readonly naming: Required<NamingOptions>;

  constructor(
    private readonly inner: MachineProvider,
    options: RetryingMachineProviderOptions = {},
  ) {
    this.name = inner.name;
    this.settings = retrySettings(options);
    this.naming = {
      concurrency: options.naming?.concurrency ?? 4,
      budgetMs: options.naming?.budgetMs ?? 60_000,
      now: options.naming?.now ?? Date.now,
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

  findManaged(): Promise<ManagedMachine[]> {
    return this.retry('findManaged', () => this.inner.findManaged());
  }

  async forget(ids: readonly string[]): Promise<void> {
    const forget = this.inner.forget?.bind(this.inner);
    if (forget) await this.retry('forget', () => forget(ids));
  }

  /** None when the inner provider's machines have no volumes of their own. */
  async findLooseVolumes(): Promise<LooseVolume[]> {
    const find = this.inner.findLooseVolumes?.bind(this.inner);
    return find ? this.retry('findLooseVolumes', find) : [];
  }

  async deleteVolumes(ids: readonly string[]): Promise<void> {
    const remove = this.inner.deleteVolumes?.bind(this.inner);
    if (remove) await this.retry('deleteVolumes', () => remove(ids));
  }

  /**
   * One machine per call, a few calls at a time, each retried while busy:
   * a name is one request per machine (a provider cannot give many machines
   * different names at once), and a throttled provider is best met by few
   * callers backing off. Once one name fails for good, or the budget is
   * spent, no new name is asked for — more calls would only drain the
   * account's quota further — and a MachinesNotNamedError says how many were.
   */
  async nameMachines(names: readonly MachineName[]): Promise<void> {
    const name = this.inner.nameMachines?.bind(this.inner);
    if (!name || names.length === 0) return;
    const { concurrency, budgetMs, now } = this.naming;
    const deadline = now() + budgetMs;
    let next = 0;
    let named = 0;
    let failure: unknown;
    const work = async () => {
      while (failure === undefined && next < names.length) {
        if (now() >= deadline) {
          failure ??= new ProviderBusyError(`naming took longer than ${Math.round(budgetMs / 1000)} s`);
          return;
        }
        const one = names[next++]!;
        try {
          await this.retry('nameMachines', () => name([one]));
          named++;
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, work));
    if (failure !== undefined) throw new MachinesNotNamedError(named, names.length, { cause: failure });
  }

  private retry<T>(method: string, call: () => Promise<T>): Promise<T> {
    return retryWhileBusy(method, call, this.settings);
  }
}
