/**
 * A small stateful SSM Run Command behind aws-sdk-client-mock, answering in
 * SSM's shapes and with SSM's errors, for the SSM remote-command runner:
 *
 *   const ssm = mockSsm({ unseenReads: 1 });
 *   ssm.state.program('i-0abc', { final: 'Failed', exitCode: 3, stdout: 'x' });
 *   ssm.fail({ command: 'GetCommandInvocation', error: ssmErrors.throttled(), call: 2 });
 *   …
 *   ssm.inputsOf('SendCommand'); ssm.restore();
 *
 * Each invocation answers InvocationDoesNotExist for its first `unseenReads`
 * reads, then Pending, InProgress and its final status (after the reads its
 * behaviour says), with output only once it ended, cut at 24,000 characters
 * of stdout and 8,000 of stderr. CancelCommand cancels what has not ended.
 * Time is counted in reads; RequestedDateTime comes from the given clock.
 */
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { ssmError } from './ssm-mock-errors.ts';
import { SsmMockState } from './ssm-mock-state.ts';

export { ssmError, ssmErrors } from './ssm-mock-errors.ts';
export {
  type FinalStatus,
  type InvocationBehaviour,
  MOCK_OUTPUT_LIMITS,
  SsmMockState,
} from './ssm-mock-state.ts';

const COMMANDS = {
  SendCommand: SendCommandCommand,
  GetCommandInvocation: GetCommandInvocationCommand,
  ListCommands: ListCommandsCommand,
  CancelCommand: CancelCommandCommand,
  DescribeInstanceInformation: DescribeInstanceInformationCommand,
} as const;

export type SsmCommandName = keyof typeof COMMANDS;
export type SsmInputOf<C extends SsmCommandName> = NonNullable<
  ConstructorParameters<(typeof COMMANDS)[C]>[0]
>;

export interface SsmFault {
  command: SsmCommandName;
  error: Error;
  /** Which call of the command fails, counted from when the fault is added: 1 is the next one. @default 1 */
  call?: number;
  /** How many calls in a row fail, from `call` on. @default 1 */
  times?: number;
  /** The call takes effect, then throws: an answer lost on the way back. @default false */
  afterEffect?: boolean;
}

export interface MockSsmOptions {
  /** Reads each new invocation answers InvocationDoesNotExist. @default 0 */
  unseenReads?: number;
  /** Instances SSM does not manage (SendCommand answers InvalidInstanceId). */
  unmanaged?: string[];
  /** @default the system clock */
  now?: () => Date;
  faults?: SsmFault[];
}

export interface SsmMock {
  client: SSMClient;
  stub: AwsClientStub<SSMClient>;
  state: SsmMockState;
  /** Inputs of every call of the command so far, in order. */
  inputsOf<C extends SsmCommandName>(command: C): SsmInputOf<C>[];
  callsOf(command: SsmCommandName): number;
  fail(fault: SsmFault): SsmMock;
  restore(): void;
}

interface ArmedFault {
  command: SsmCommandName;
  from: number;
  to: number;
  afterEffect: boolean;
  error: Error;
}

/** A fresh mocked SSMClient over a fresh world. */
export function mockSsm(options: MockSsmOptions = {}): SsmMock {
  const client = new SSMClient({ region: 'eu-west-1', maxAttempts: 1 });
  const stub = mockClient(client);
  const state = new SsmMockState({
    unseenReads: options.unseenReads ?? 0,
    unmanaged: new Set(options.unmanaged ?? []),
    now: options.now ?? (() => new Date()),
  });
  const counts = new Map<SsmCommandName, number>();
  let faults: ArmedFault[] = [];
  const callsOf = (command: SsmCommandName) => counts.get(command) ?? 0;

  const mock: SsmMock = {
    client,
    stub,
    state,
    inputsOf: (command) =>
      stub.commandCalls(COMMANDS[command] as never).map((call) => call.args[0].input as never),
    callsOf,
    fail(fault) {
      const from = callsOf(fault.command) + (fault.call ?? 1);
      faults.push({
        command: fault.command,
        from,
        to: from + (fault.times ?? 1) - 1,
        afterEffect: fault.afterEffect ?? false,
        error: fault.error,
      });
      return mock;
    },
    restore: () => stub.restore(),
  };
  for (const fault of options.faults ?? []) mock.fail(fault);

  // First: sinon picks the last matching behaviour, so the specific answers below win.
  stub.onAnyCommand().rejects(ssmError('InvalidAction', 'The action is not modelled by the SSM mock.'));
  const answer = <C extends SsmCommandName>(command: C, handle: (input: SsmInputOf<C>) => unknown) => {
    stub.on(COMMANDS[command] as never).callsFake(async (input: SsmInputOf<C>) => {
      const call = callsOf(command) + 1;
      counts.set(command, call);
      const fault = faults.find((f) => f.command === command && f.from <= call && call <= f.to);
      if (fault && call === fault.to) faults = faults.filter((f) => f !== fault);
      if (fault && !fault.afterEffect) throw fault.error;
      const output = handle(input);
      if (fault) throw fault.error;
      return { $metadata: { httpStatusCode: 200, requestId: state.requestId() }, ...(output as object) };
    });
  };
  answer('SendCommand', (input) => state.sendCommand(input));
  answer('GetCommandInvocation', (input) => state.getCommandInvocation(input));
  answer('ListCommands', (input) => state.listCommands(input));
  answer('CancelCommand', (input) => state.cancelCommand(input));
  answer('DescribeInstanceInformation', (input) => state.describeInstanceInformation(input));
  return mock;
}
