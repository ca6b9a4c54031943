/**
 * The commands behind the SSM mock (see ssm-mock.ts): SendCommand,
 * GetCommandInvocation, ListCommands and CancelCommand over a small world
 * of commands and their invocations, answering in SSM's shapes or throwing
 * SSM's errors as the SDK does. Time is counted in reads: an invocation
 * moves on only when GetCommandInvocation looks at it.
 */
import { randomUUID } from 'node:crypto';
import type {
  CancelCommandCommandInput,
  Command,
  DescribeInstanceInformationCommandInput,
  GetCommandInvocationCommandInput,
  GetCommandInvocationCommandOutput,
  ListCommandsCommandInput,
  SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { ssmError, ssmErrors } from './ssm-mock-errors.ts';

/** How an invocation ends, as SSM's Status and StatusDetails show it. */
export type FinalStatus =
  | 'Success'
  | 'Failed'
  | 'ExecutionTimedOut'
  | 'DeliveryTimedOut'
  | 'Undeliverable'
  | 'Terminated';

/** What happens to a command on one instance. */
export interface InvocationBehaviour {
  /** Reads right after the send that answer InvocationDoesNotExist (eventual consistency). @default the mock's unseenReads */
  unseenReads?: number;
  /** Reads that answer Pending, then InProgress, before the final status. @default 1 each */
  pendingReads?: number;
  runningReads?: number;
  /** @default 'Success' */
  final?: FinalStatus;
  /** The script's exit code. @default 0 for Success, 1 for Failed */
  exitCode?: number;
  /** All the script wrote; SSM shows the first 24,000 characters of stdout, 8,000 of stderr. */
  stdout?: string;
  stderr?: string;
}

export interface SsmMockSettings {
  unseenReads: number;
  /** Instances SSM does not manage: SendCommand answers InvalidInstanceId. */
  unmanaged: ReadonlySet<string>;
  now: () => Date;
}

/** The inline output limits, in characters, as SSM documents them. */
export const MOCK_OUTPUT_LIMITS = { stdout: 24_000, stderr: 8_000 } as const;
const RUN_SHELL_SCRIPT_PARAMETERS = new Set(['commands', 'workingDirectory', 'executionTimeout']);
const EXECUTION_TIMEOUT =
  /^(([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800))$/;
const MAX_ERRORS = /^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/;

interface Invocation {
  commandId: string;
  instanceId: string;
  behaviour: Required<Omit<InvocationBehaviour, 'exitCode'>> & { exitCode: number };
  reads: number;
  cancelled: boolean;
}

interface MockCommand {
  command: Command;
  invocations: Map<string, Invocation>;
}

const FINAL_SHAPES: Record<FinalStatus, { Status: string; StatusDetails: string; output: boolean }> = {
  Success: { Status: 'Success', StatusDetails: 'Success', output: true },
  Failed: { Status: 'Failed', StatusDetails: 'Failed', output: true },
  ExecutionTimedOut: { Status: 'TimedOut', StatusDetails: 'ExecutionTimedOut', output: false },
  DeliveryTimedOut: { Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', output: false },
  Undeliverable: { Status: 'Failed', StatusDetails: 'Undeliverable', output: false },
  Terminated: { Status: 'Failed', StatusDetails: 'Terminated', output: false },
};

function firstCharacters(text: string, limit: number): string {
  const characters = Array.from(text);
  return characters.length <= limit ? text : characters.slice(0, limit).join('');
}

export class SsmMockState {
  private readonly commands = new Map<string, MockCommand>();
  private readonly behaviours = new Map<string, InvocationBehaviour>();
  private sequence = 0;

  constructor(private readonly settings: SsmMockSettings) {}

  /** How commands sent from now on behave on the instance. */
  program(instanceId: string, behaviour: InvocationBehaviour): void {
    this.behaviours.set(instanceId, behaviour);
  }

  /** Every command sent so far, as ListCommands shows it, oldest first. */
  sent(): Command[] {
    return [...this.commands.values()].map((entry) => structuredClone(entry.command));
  }

  /** The invocation's GetCommandInvocation reads so far. */
  readsOf(commandId: string, instanceId: string): number {
    return this.commands.get(commandId)?.invocations.get(instanceId)?.reads ?? 0;
  }

  requestId(): string {
    return `${(this.sequence++).toString(16).padStart(8, '0')}-5353-4d00-8000-000000000000`;
  }

  // ------------------------------------------------------------ SendCommand

  sendCommand(input: SendCommandCommandInput) {
    this.validateSend(input);
    const commandId = randomUUID();
    const instanceIds = input.InstanceIds ?? [];
    const requested = this.settings.now();
    const executionTimeout = Number(input.Parameters?.executionTimeout?.[0] ?? '3600');
    const timeoutSeconds = input.TimeoutSeconds ?? 3600;
    const command: Command = {
      CommandId: commandId,
      DocumentName: input.DocumentName,
      DocumentVersion: '$DEFAULT',
      Comment: input.Comment ?? '',
      ExpiresAfter: new Date(requested.getTime() + (timeoutSeconds + executionTimeout) * 1000),
      Parameters: structuredClone(input.Parameters ?? {}),
      InstanceIds: [...instanceIds],
      Targets: [],
      RequestedDateTime: requested,
      Status: 'Pending',
      StatusDetails: 'Pending',
      OutputS3Region: 'eu-west-1',
      OutputS3BucketName: '',
      OutputS3KeyPrefix: '',
      MaxConcurrency: input.MaxConcurrency ?? '50',
      MaxErrors: input.MaxErrors ?? '0',
      TargetCount: instanceIds.length,
      CompletedCount: 0,
      ErrorCount: 0,
      DeliveryTimedOutCount: 0,
      ServiceRole: '',
      NotificationConfig: { NotificationArn: '', NotificationEvents: [] },
      CloudWatchOutputConfig: input.CloudWatchOutputConfig ?? { CloudWatchOutputEnabled: false },
      TimeoutSeconds: timeoutSeconds,
      TriggeredAlarms: [],
    };
    const invocations = new Map<string, Invocation>();
    for (const instanceId of instanceIds) {
      const programmed = this.behaviours.get(instanceId) ?? {};
      const final = programmed.final ?? 'Success';
      invocations.set(instanceId, {
        commandId,
        instanceId,
        behaviour: {
          unseenReads: programmed.unseenReads ?? this.settings.unseenReads,
          pendingReads: programmed.pendingReads ?? 1,
          runningReads: programmed.runningReads ?? 1,
          final,
          exitCode: programmed.exitCode ?? (final === 'Success' ? 0 : 1),
          stdout: programmed.stdout ?? '',
          stderr: programmed.stderr ?? '',
        },
        reads: 0,
        cancelled: false,
      });
    }
    this.commands.set(commandId, { command, invocations });
    return { Command: structuredClone(command) };
  }

  private validateSend(input: SendCommandCommandInput): void {
    if (input.DocumentName !== 'AWS-RunShellScript') throw ssmErrors.invalidDocument();
    const ids = input.InstanceIds ?? [];
    if (ids.length === 0 && (input.Targets ?? []).length === 0) {
      throw ssmErrors.validation('Either InstanceIds or Targets must be specified.');
    }
    if (ids.length > 50) {
      throw ssmErrors.validation(
        "1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50",
      );
    }
    if (new Set(ids).size !== ids.length) throw ssmErrors.duplicateInstanceId();
    const unmanaged = ids.filter((id) => this.settings.unmanaged.has(id));
    if (unmanaged.length > 0) throw ssmErrors.invalidInstanceId();
    if ((input.Comment ?? '').length > 100) {
      throw ssmErrors.validation(
        "1 validation error detected: Value at 'comment' failed to satisfy constraint: Member must have length less than or equal to 100",
      );
    }
    const timeout = input.TimeoutSeconds;
    if (timeout !== undefined && (timeout < 30 || timeout > 2_592_000)) {
      throw ssmErrors.validation(
        `1 validation error detected: Value '${timeout}' at 'timeoutSeconds' failed to satisfy constraint: Member must have value between 30 and 2592000`,
      );
    }
    if (input.MaxErrors !== undefined && !MAX_ERRORS.test(input.MaxErrors)) {
      throw ssmErrors.validation(`Value '${input.MaxErrors}' at 'maxErrors' failed to satisfy constraint`);
    }
    const parameters = input.Parameters ?? {};
    for (const name of Object.keys(parameters)) {
      if (!RUN_SHELL_SCRIPT_PARAMETERS.has(name))
        throw ssmErrors.invalidParameters(`${name} is not a parameter`);
    }
    if (!parameters.commands?.length) throw ssmErrors.invalidParameters('commands is required');
    const executionTimeout = parameters.executionTimeout;
    if (
      executionTimeout &&
      (executionTimeout.length !== 1 || !EXECUTION_TIMEOUT.test(executionTimeout[0]!))
    ) {
      throw ssmErrors.invalidParameters(
        'Parameter "executionTimeout" "' +
          executionTimeout.join(',') +
          '" fails to match the allowed pattern',
      );
    }
    if (Buffer.byteLength(JSON.stringify(parameters), 'utf8') > 64 * 1024) throw ssmErrors.maxDocumentSize();
  }

  // ------------------------------------------------------------ GetCommandInvocation

  getCommandInvocation(
    input: GetCommandInvocationCommandInput,
  ): Omit<GetCommandInvocationCommandOutput, '$metadata'> {
    const entry = this.commands.get(input.CommandId ?? '');
    const invocation = entry?.invocations.get(input.InstanceId ?? '');
    if (!entry || !invocation) throw ssmErrors.invocationDoesNotExist();
    invocation.reads += 1;
    const { behaviour, reads } = invocation;
    if (reads <= behaviour.unseenReads) throw ssmErrors.invocationDoesNotExist();
    const visible = reads - behaviour.unseenReads;
    const base = {
      CommandId: invocation.commandId,
      InstanceId: invocation.instanceId,
      Comment: entry.command.Comment,
      DocumentName: entry.command.DocumentName,
      DocumentVersion: '1',
      PluginName: 'aws:runShellScript',
      StandardOutputUrl: '',
      StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
    const idle = { ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: '' };
    const ended = this.hasEnded(invocation, visible);
    if (invocation.cancelled && !ended) {
      return { ...base, ...idle, Status: 'Cancelled', StatusDetails: 'Cancelled' };
    }
    if (visible <= behaviour.pendingReads) {
      return { ...base, ...idle, Status: 'Pending', StatusDetails: 'Pending', ExecutionStartDateTime: '' };
    }
    if (!ended) {
      return {
        ...base,
        ...idle,
        Status: 'InProgress',
        StatusDetails: 'InProgress',
        ExecutionStartDateTime: entry.command.RequestedDateTime?.toISOString(),
      };
    }
    const shape = FINAL_SHAPES[behaviour.final];
    return {
      ...base,
      Status: shape.Status as GetCommandInvocationCommandOutput['Status'],
      StatusDetails: shape.StatusDetails,
      ResponseCode: shape.output ? behaviour.exitCode : -1,
      StandardOutputContent: shape.output ? firstCharacters(behaviour.stdout, MOCK_OUTPUT_LIMITS.stdout) : '',
      StandardErrorContent: shape.output ? firstCharacters(behaviour.stderr, MOCK_OUTPUT_LIMITS.stderr) : '',
      ExecutionEndDateTime: this.settings.now().toISOString(),
    };
  }

  private hasEnded(invocation: Invocation, visible: number): boolean {
    const { pendingReads, runningReads } = invocation.behaviour;
    return !invocation.cancelled && visible > pendingReads + runningReads;
  }

  // ------------------------------------------------------------ ListCommands, CancelCommand

  listCommands(input: ListCommandsCommandInput) {
    if (input.CommandId === undefined) return { Commands: this.sent() };
    if (!/^[0-9a-f-]{36}$/.test(input.CommandId)) throw ssmErrors.invalidCommandId();
    const entry = this.commands.get(input.CommandId);
    return { Commands: entry ? [structuredClone(entry.command)] : [] };
  }

  private readonly registering = new Map<string, number>();

  /** The instance's agent registers only after this many DescribeInstanceInformation calls name it. */
  registersAfter(instanceId: string, describes: number): void {
    this.registering.set(instanceId, describes);
  }

  /** Managed instances, Online once registered; unmanaged ones and those still registering are not listed. */
  describeInstanceInformation(input: DescribeInstanceInformationCommandInput) {
    const ids = input.Filters?.find((filter) => filter.Key === 'InstanceIds')?.Values ?? [];
    if (ids.length > 50)
      throw ssmError(
        'InvalidInstanceInformationFilterValue',
        'The InstanceIds filter takes at most 50 values.',
      );
    const listed = ids.filter((id) => {
      if (this.settings.unmanaged.has(id)) return false;
      const left = this.registering.get(id) ?? 0;
      if (left > 0) this.registering.set(id, left - 1);
      return left === 0;
    });
    return {
      InstanceInformationList: listed.map((InstanceId) => ({
        InstanceId,
        PingStatus: 'Online',
        ResourceType: 'EC2Instance',
        PlatformType: 'Linux',
        AgentVersion: '3.3.1142.0',
        LastPingDateTime: this.settings.now(),
      })),
    };
  }

  /** Invocations that have not ended become Cancelled; ended ones stay as they are, as in SSM. */
  cancelCommand(input: CancelCommandCommandInput) {
    const entry = this.commands.get(input.CommandId ?? '');
    if (!entry) throw ssmErrors.invalidCommandId();
    const ids = input.InstanceIds?.length ? input.InstanceIds : [...entry.invocations.keys()];
    if (new Set(ids).size !== ids.length) throw ssmErrors.duplicateInstanceId();
    const targeted = ids.map((id) => entry.invocations.get(id));
    if (targeted.some((invocation) => invocation === undefined)) throw ssmErrors.invalidInstanceId();
    for (const invocation of targeted as Invocation[]) {
      const visible = invocation.reads - invocation.behaviour.unseenReads;
      if (!this.hasEnded(invocation, visible)) invocation.cancelled = true;
    }
    return {};
  }
}
