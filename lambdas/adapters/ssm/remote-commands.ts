/**
 * Remote commands on EC2 through SSM Run Command (AWS-RunShellScript):
 * one SendCommand per command, GetCommandInvocation per instance to read
 * it, CancelCommand to stop it. Output is inline only (no S3, no
 * CloudWatch), so SSM keeps the first 24,000 characters of stdout and
 * 8,000 of stderr (see invocation-report.ts).
 *
 * Retries live above this runner (RetryingRemoteCommandRunner), and the
 * SDK client must make one attempt (remoteCommandsClient): SendCommand has
 * no idempotency token, so only a throttled send is reported retryable.
 */
import {
  CancelCommandCommand,
  type Command,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { ClusterInstance } from '../../../schemas/types.generated.ts';
import { ValidationError } from '../../domain/errors.ts';
import type {
  Clock,
  InvocationReport,
  OutputOffsets,
  RemoteCommandRunner,
  RemoteScript,
  SentCommand,
} from '../../domain/ports.ts';
import { RetryingRemoteCommandRunner } from '../retrying-remote-commands.ts';
import { isSsmError, translateSsmError } from './errors.ts';
import { reportOf } from './invocation-report.ts';
import { renderRemoteScript, type ScriptRegion, type ServiceAccount } from './remote-script.ts';

export const RUN_SHELL_SCRIPT = 'AWS-RunShellScript';

/** SSM's limits on a SendCommand, checked before the call so the error names them. */
export const SEND_COMMAND_LIMITS = {
  /** InstanceIds: "up to 50 IDs". */
  instances: 50,
  /** Comment: "Maximum length of 100". */
  commentLength: 100,
  /**
   * The size of a document is limited to 64 KB (MaxDocumentSizeExceeded,
   * one of SendCommand's errors); the parameters are held to it too, as
   * the UTF-8 size of their JSON. The script, its environment and files
   * travel gzipped and in base64 (4 bytes for every 3).
   */
  parametersBytes: 64 * 1024,
  /** AWS-RunShellScript's executionTimeout: 1 to 172800 seconds (48 hours). */
  executionTimeoutSeconds: 172_800,
  /** TimeoutSeconds, how long SSM tries to deliver: 30 seconds to 30 days. */
  deliveryTimeoutSeconds: { min: 30, max: 2_592_000 },
} as const;

export interface SsmRemoteCommandsOptions {
  client: SSMClient;
  /** Who runs scripts that name no user, and whose home holds the workdirs. */
  serviceAccount: ServiceAccount;
  /** How long SSM tries to deliver a command to an instance that is not reachable. @default 600 */
  deliveryTimeoutSeconds?: number;
  /**
   * How long after a send an invocation SSM does not know (InvocationDoesNotExist)
   * is still taken for SSM's eventual consistency, and reported pending. @default 300
   */
  unseenGraceSeconds?: number;
  /** @default the system clock */
  clock?: Clock;
}

/** One attempt per call: retries are RetryingRemoteCommandRunner's, where they are safe. */
export function remoteCommandsClient(region: string): SSMClient {
  return new SSMClient({ region, maxAttempts: 1 });
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };
const MAX_INSTANCES_PER_FILTER = 50;

/** The deployment's remote commands, retried where that is safe (reads and cancels, never a send). */
export function ssmRemoteCommands(client: SSMClient, serviceAccount: ServiceAccount): RemoteCommandRunner {
  return new RetryingRemoteCommandRunner(new SsmRemoteCommands({ client, serviceAccount }));
}

export class SsmRemoteCommands implements RemoteCommandRunner {
  private readonly client: SSMClient;
  private readonly account: ServiceAccount;
  private readonly deliveryTimeoutSeconds: number;
  private readonly unseenGraceMs: number;
  private readonly clock: Clock;

  constructor(options: SsmRemoteCommandsOptions) {
    this.client = options.client;
    this.account = options.serviceAccount;
    const { min, max } = SEND_COMMAND_LIMITS.deliveryTimeoutSeconds;
    this.deliveryTimeoutSeconds = Math.min(max, Math.max(min, options.deliveryTimeoutSeconds ?? 600));
    this.unseenGraceMs = (options.unseenGraceSeconds ?? 300) * 1000;
    this.clock = options.clock ?? SYSTEM_CLOCK;
  }

  async send(
    commandId: string,
    instances: readonly ClusterInstance[],
    script: RemoteScript,
  ): Promise<SentCommand> {
    // The instances read a command's secrets in the region the command is sent to.
    const region = script.secretEnv ? { region: await this.client.config.region() } : undefined;
    const input = this.sendInput(commandId, instances, script, region);
    const answer = await this.call('SendCommand', false, () =>
      this.client.send(new SendCommandCommand(input)),
    );
    const providerCommandId = answer.Command?.CommandId;
    if (!providerCommandId) throw new Error('SSM SendCommand answered without a CommandId');
    return { providerCommandId };
  }

  /** The SendCommand request of a command; throws ValidationError for one SSM would refuse. */
  private sendInput(
    commandId: string,
    instances: readonly ClusterInstance[],
    script: RemoteScript,
    region: ScriptRegion | undefined,
  ): SendCommandCommandInput {
    const instanceIds = [...new Set(instances.map((instance) => instance.id))];
    if (instanceIds.length === 0)
      throw new ValidationError('a command needs at least one instance to run on');
    if (instanceIds.length > SEND_COMMAND_LIMITS.instances) {
      throw new ValidationError(
        `SSM runs a command on at most ${SEND_COMMAND_LIMITS.instances} instances, and this one targets ${instanceIds.length}: target fewer (e.g. worker:N)`,
        { field: 'target' },
      );
    }
    const timeout = script.timeoutSeconds;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > SEND_COMMAND_LIMITS.executionTimeoutSeconds) {
      throw new ValidationError(
        `timeoutSeconds: must be a whole number of seconds from 1 to ${SEND_COMMAND_LIMITS.executionTimeoutSeconds} (SSM's 48 hours), not ${timeout}`,
        { field: 'timeoutSeconds' },
      );
    }
    const commands = renderRemoteScript(script, this.account, region);
    const parameters = { commands: [commands], executionTimeout: [String(timeout)] };
    const bytes = Buffer.byteLength(JSON.stringify(parameters), 'utf8');
    if (bytes > SEND_COMMAND_LIMITS.parametersBytes) {
      throw new ValidationError(
        `the command is ${bytes} bytes once packed for SSM, over SSM's ${SEND_COMMAND_LIMITS.parametersBytes}-byte (64 KB) limit: send a shorter script or smaller files`,
        { field: 'command' },
      );
    }
    return {
      DocumentName: RUN_SHELL_SCRIPT,
      InstanceIds: instanceIds,
      Parameters: parameters,
      TimeoutSeconds: this.deliveryTimeoutSeconds,
      Comment: commentOf(script.comment, commandId),
      // MaxErrors defaults to 0: the first failing instance would stop the others (Terminated).
      MaxErrors: '100%',
      MaxConcurrency: String(SEND_COMMAND_LIMITS.instances),
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: false },
    };
  }

  /**
   * Where the invocation is now. SSM answers InvocationDoesNotExist for a
   * while after a send: within `unseenGraceSeconds` of the command's
   * RequestedDateTime (ListCommands) that is reported pending; after it,
   * or for an instance the command never targeted, lost. A command SSM
   * does not know at all (just sent, or expired after its 30 days) is
   * reported pending: the caller's own deadline ends it.
   */
  async read(
    sent: SentCommand,
    instance: ClusterInstance,
    from: OutputOffsets,
    limitBytes: number,
  ): Promise<InvocationReport> {
    const { providerCommandId: CommandId } = sent;
    try {
      const answer = await this.call(
        'GetCommandInvocation',
        true,
        () => this.client.send(new GetCommandInvocationCommand({ CommandId, InstanceId: instance.id })),
        ['InvocationDoesNotExist', 'InvalidCommandId', 'InvalidInstanceId'],
      );
      return reportOf(answer, from, limitBytes);
    } catch (error) {
      if (!isSsmError(error, 'InvocationDoesNotExist', 'InvalidCommandId', 'InvalidInstanceId')) throw error;
      return this.unseenInvocation(CommandId, instance.id);
    }
  }

  private async unseenInvocation(commandId: string, instanceId: string): Promise<InvocationReport> {
    const empty = {
      stdout: new Uint8Array(),
      stderr: new Uint8Array(),
      totalBytes: { stdout: 0, stderr: 0 },
    };
    const command = await this.commandOf(commandId);
    if (!command) return { state: 'pending', reason: 'SSM does not show the command yet', ...empty };
    if (command.InstanceIds && !command.InstanceIds.includes(instanceId)) {
      return { state: 'lost', reason: `the command was not sent to ${instanceId}`, ...empty };
    }
    const sentAt = command.RequestedDateTime?.getTime();
    if (sentAt !== undefined && this.clock.now().getTime() - sentAt > this.unseenGraceMs) {
      return {
        state: 'lost',
        reason: `SSM still has no invocation on ${instanceId} ${Math.round(this.unseenGraceMs / 1000)} s after the command was sent`,
        ...empty,
      };
    }
    return { state: 'pending', reason: 'SSM does not show the invocation yet', ...empty };
  }

  private async commandOf(commandId: string): Promise<Command | undefined> {
    try {
      const answer = await this.call(
        'ListCommands',
        true,
        () => this.client.send(new ListCommandsCommand({ CommandId: commandId })),
        ['InvalidCommandId'],
      );
      return answer.Commands?.[0];
    } catch (error) {
      if (isSsmError(error, 'InvalidCommandId')) return undefined;
      throw error;
    }
  }

  /** Idempotent: invocations that ended, and a command SSM no longer knows, are left as they are. */
  async cancel(sent: SentCommand, instances: readonly ClusterInstance[]): Promise<void> {
    const instanceIds = [...new Set(instances.map((instance) => instance.id))];
    // Without InstanceIds CancelCommand cancels every invocation: never by accident.
    if (instanceIds.length === 0) return;
    const passed = ['InvalidCommandId', 'InvalidInstanceId'];
    try {
      await this.call(
        'CancelCommand',
        true,
        () =>
          this.client.send(
            new CancelCommandCommand({ CommandId: sent.providerCommandId, InstanceIds: instanceIds }),
          ),
        passed,
      );
    } catch (error) {
      if (!isSsmError(error, ...passed)) throw error;
    }
  }

  /**
   * The instances whose SSM agent is registered and online: a command sent
   * to any other fails at once (InvalidInstanceId). 50 ids a call, SSM's
   * most for an InstanceIds filter.
   */
  async reachable(instances: readonly ClusterInstance[]): Promise<string[]> {
    const ids = [...new Set(instances.map((instance) => instance.id))];
    const online = new Set<string>();
    for (let i = 0; i < ids.length; i += MAX_INSTANCES_PER_FILTER) {
      const batch = ids.slice(i, i + MAX_INSTANCES_PER_FILTER);
      let NextToken: string | undefined;
      do {
        const page = await this.call('DescribeInstanceInformation', true, () =>
          this.client.send(
            new DescribeInstanceInformationCommand({
              Filters: [{ Key: 'InstanceIds', Values: batch }],
              MaxResults: MAX_INSTANCES_PER_FILTER,
              ...(NextToken ? { NextToken } : {}),
            }),
          ),
        );
        for (const info of page.InstanceInformationList ?? []) {
          if (info.InstanceId && info.PingStatus === 'Online') online.add(info.InstanceId);
        }
        NextToken = page.NextToken || undefined;
      } while (NextToken);
    }
    return ids.filter((id) => online.has(id));
  }

  /** The SDK call, its errors translated; errors named in `untranslated` are thrown as SSM sent them. */
  private async call<T>(
    action: string,
    idempotent: boolean,
    send: () => Promise<T>,
    untranslated: readonly string[] = [],
  ): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (isSsmError(error, ...untranslated)) throw error;
      throw translateSsmError(error, { action, idempotent });
    }
  }
}

/** SSM's Comment holds 100 characters; longer ones are cut with an ellipsis. */
export function commentOf(comment: string, commandId: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the console shows one line
  const line = (comment || `bilbo ${commandId}`).replace(/[\u0000-\u001f\u007f]+/g, ' ');
  const limit = SEND_COMMAND_LIMITS.commentLength;
  if (line.length <= limit) return line;
  let cut = '';
  for (const character of line) {
    if (cut.length + character.length > limit - 1) break;
    cut += character;
  }
  return `${cut}…`;
}
