/**
 * Remote-command runners for tests: one whose invocations end as a test
 * scripts them, and one for planes whose tests run no commands.
 */

import type {
  InvocationReport,
  OutputOffsets,
  RemoteCommandRunner,
  RemoteScript,
  SentCommand,
} from '../../lambdas/domain/ports.ts';
import type { ClusterInstance } from '../../schemas/types.generated.ts';

export interface ScriptedInvocation {
  /** Reads that answer `running` before the end. @default 0 */
  readsBeforeEnd?: number;
  state?: InvocationReport['state'];
  exitCode?: number;
  signal?: string;
  stdout?: Uint8Array | string;
  stderr?: Uint8Array | string;
}

export class ScriptedRemote implements RemoteCommandRunner {
  readonly sent: { commandId: string; instances: ClusterInstance[]; script: RemoteScript }[] = [];
  readonly cancelled: string[] = [];
  readonly reads: { instanceId: string; from: OutputOffsets }[] = [];
  private readonly readsSoFar = new Map<string, number>();

  /** How each invocation ends: by instance, and by the script sent when a test needs that. */
  constructor(
    private readonly outcome: (
      instance: ClusterInstance,
      script: RemoteScript | undefined,
    ) => ScriptedInvocation,
  ) {}

  async send(
    commandId: string,
    instances: readonly ClusterInstance[],
    script: RemoteScript,
  ): Promise<SentCommand> {
    this.sent.push({ commandId, instances: [...instances], script });
    return { providerCommandId: `provider-${commandId}` };
  }

  async read(sent: SentCommand, instance: ClusterInstance, from: OutputOffsets, limitBytes: number) {
    this.reads.push({ instanceId: instance.id, from });
    const key = `${sent.providerCommandId}/${instance.id}`;
    const seen = (this.readsSoFar.get(key) ?? 0) + 1;
    this.readsSoFar.set(key, seen);
    const script = this.sent.find((one) => `provider-${one.commandId}` === sent.providerCommandId)?.script;
    const scripted = this.outcome(instance, script);
    const bytes = (value: Uint8Array | string | undefined) =>
      typeof value === 'string' ? new TextEncoder().encode(value) : (value ?? new Uint8Array());
    const [stdout, stderr] = [bytes(scripted.stdout), bytes(scripted.stderr)];
    const cancelled = this.cancelled.includes(sent.providerCommandId);
    const ended = cancelled || seen > (scripted.readsBeforeEnd ?? 0);
    const report: InvocationReport = {
      state: cancelled
        ? 'cancelled'
        : ended
          ? (scripted.state ?? (scripted.exitCode ? 'failed' : 'succeeded'))
          : 'running',
      stdout: stdout.subarray(from.stdout, from.stdout + limitBytes),
      stderr: stderr.subarray(from.stderr, from.stderr + limitBytes),
      totalBytes: { stdout: stdout.length, stderr: stderr.length },
    };
    if (ended && !cancelled) {
      report.exitCode = scripted.exitCode ?? 0;
      if (scripted.signal) report.signal = scripted.signal;
    }
    return report;
  }

  async cancel(sent: SentCommand): Promise<void> {
    this.cancelled.push(sent.providerCommandId);
  }

  /** Instances that cannot take commands yet (the agent not registered). */
  readonly unreachable = new Set<string>();

  async reachable(instances: readonly ClusterInstance[]): Promise<string[]> {
    return instances.map((instance) => instance.id).filter((id) => !this.unreachable.has(id));
  }
}

/** For planes whose tests run no commands: any use is a test bug. */
export const noRemoteCommands: RemoteCommandRunner = {
  send: () => Promise.reject(new Error('this test plane runs no remote commands')),
  read: () => Promise.reject(new Error('this test plane runs no remote commands')),
  cancel: () => Promise.reject(new Error('this test plane runs no remote commands')),
  // Every machine can take commands: these planes only never send any.
  reachable: async (instances) => instances.map((instance) => instance.id),
};
