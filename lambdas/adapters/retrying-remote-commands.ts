/**
 * Retries above the remote-command runners, as RetryingMachineProvider does
 * above the machine providers: ProviderBusyError only (see retry-busy.ts).
 * `read`, `cancel` and `reachable` are idempotent. A runner's `send` raises
 * ProviderBusyError only when the provider refused the request before
 * acting on it (throttling), so a retried send never runs a script twice.
 */

import type { ClusterInstance } from '../../schemas/types.generated.ts';
import type {
  InvocationReport,
  OutputOffsets,
  RemoteCommandRunner,
  RemoteScript,
  SentCommand,
} from '../domain/ports.ts';
import { type RetryOptions, type RetrySettings, retrySettings, retryWhileBusy } from './retry-busy.ts';

export class RetryingRemoteCommandRunner implements RemoteCommandRunner {
  private readonly settings: RetrySettings;

  constructor(
    private readonly inner: RemoteCommandRunner,
    options: RetryOptions = {},
  ) {
    this.settings = retrySettings(options);
  }

  send(commandId: string, instances: readonly ClusterInstance[], script: RemoteScript): Promise<SentCommand> {
    return retryWhileBusy('send', () => this.inner.send(commandId, instances, script), this.settings);
  }

  read(
    sent: SentCommand,
    instance: ClusterInstance,
    from: OutputOffsets,
    limitBytes: number,
  ): Promise<InvocationReport> {
    return retryWhileBusy('read', () => this.inner.read(sent, instance, from, limitBytes), this.settings);
  }

  cancel(sent: SentCommand, instances: readonly ClusterInstance[]): Promise<void> {
    return retryWhileBusy('cancel', () => this.inner.cancel(sent, instances), this.settings);
  }

  reachable(instances: readonly ClusterInstance[]): Promise<string[]> {
    return retryWhileBusy('reachable', () => this.inner.reachable(instances), this.settings);
  }
}
