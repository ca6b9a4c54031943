/**
 * Runs bilbo's state machines in-process (local mode, tests): the
 * definitions are the ones `cdk synth` produces (generated at build time
 * into infra/generated/workflows.json, so nothing is synthesized here),
 * aws-local-stepfunctions interprets them, and every Lambda task calls its
 * task's handler — the same step code that runs on AWS, over local adapters.
 */
import '../../scripts/polyfills.mjs';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { allStates, type ExtractedWorkflow, LOCAL_ACCOUNT, LOCAL_REGION } from '../../infra/asl.ts';
import generated from '../../infra/generated/workflows.json' with { type: 'json' };
import type { ExecutionStatus, WorkflowExecution, WorkflowStarter } from '../../lambdas/domain/ports.ts';
import { WORKFLOW_NAMES, type WorkflowInputs, type WorkflowName } from '../../lambdas/domain/workflows.ts';
import type { TaskName } from '../../lambdas/handlers/tasks/task-names.ts';

/** A Lambda handler: the runner hands it the JSON payload the state machine built, which it cannot type. */
export type Handler = (event: never, context: Context) => Promise<unknown>;

export type { ExecutionStatus };

type Execution = ReturnType<StateMachine['run']>;
/** One entry of an execution's history, as aws-local-stepfunctions reports it. */
export type HistoryEvent = Execution['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface ExecutionSummary {
  executionArn: string;
  workflow: WorkflowName;
  name: string;
  status: ExecutionStatus;
  input: object;
  startDate: Date;
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  /** States entered so far (Step Functions bills per transition). */
  stateTransitions: number;
}

/** Every workflow's definition as `cdk synth` produces it (infra/generated/workflows.json). */
export const SYNTHESIZED_WORKFLOWS = generated as unknown as Readonly<
  Record<WorkflowName, ExtractedWorkflow>
>;

export interface LocalWorkflowRunnerOptions extends RunnerTuning {
  /** Each task's Lambda handler (local mode builds them over its own adapters). */
  handlers: (task: TaskName) => Handler;
}

/** How a runner runs, apart from what it calls: faster waits, fault injection, a listener. */
export interface RunnerTuning {
  /** Wraps every task invocation: inspect or replace the payload, the result, or the error. */
  interceptor?: (stateName: string, payload: unknown, next: () => Promise<unknown>) => Promise<unknown>;
  /** Every Wait state lasts this many milliseconds. @default the definition's seconds */
  waitOverrideMs?: number;
  /** Every retry waits this many milliseconds. @default the definition's intervals and backoff */
  retryOverrideMs?: number;
  onExecutionEnd?: (summary: ExecutionSummary) => void;
}

interface Run {
  summary: ExecutionSummary;
  history: HistoryEvent[];
  done: Promise<void>;
  abort: () => void;
}

/** A WorkflowStarter that runs the state machines in this process instead of Step Functions. */
export class LocalWorkflowRunner implements WorkflowStarter {
  private readonly machines: Record<WorkflowName, StateMachine>;
  private readonly taskHandlers: Record<WorkflowName, Record<string, (input: unknown) => Promise<unknown>>>;
  private readonly waitStates: Record<WorkflowName, string[]>;
  private readonly retryStates: Record<WorkflowName, string[]>;
  private readonly runs = new Map<string, Run>();

  constructor(
    private readonly options: LocalWorkflowRunnerOptions,
    workflows: Readonly<Record<WorkflowName, ExtractedWorkflow>> = SYNTHESIZED_WORKFLOWS,
  ) {
    const built = new Map<TaskName, Handler>();
    const handlerFor = (task: TaskName): Handler => {
      let handler = built.get(task);
      if (!handler) {
        handler = options.handlers(task);
        built.set(task, handler);
      }
      return handler;
    };
    const each = <T>(build: (workflow: ExtractedWorkflow) => T): Record<WorkflowName, T> =>
      Object.fromEntries(WORKFLOW_NAMES.map((name) => [name, build(workflows[name])])) as Record<
        WorkflowName,
        T
      >;
    this.taskHandlers = each((workflow) => this.lambdaTasks(workflow, handlerFor));
    this.machines = each(
      (workflow) => new StateMachine(workflow.definition as unknown as StateMachineDefinition),
    );
    this.waitStates = each((workflow) => stateNames(workflow, (state) => state.Type === 'Wait'));
    this.retryStates = each((workflow) => stateNames(workflow, (state) => Array.isArray(state.Retry)));
  }

  /**
   * Starts an execution in the background and returns its ARN. Like Step
   * Functions, a name that already ran returns the existing execution.
   */
  async start<W extends WorkflowName>(
    workflow: W,
    executionName: string,
    input: WorkflowInputs[W],
  ): Promise<string> {
    const executionArn = localExecutionArn(workflow, executionName);
    if (this.runs.has(executionArn)) return executionArn;

    const execution = this.machines[workflow].run(structuredClone(input) as never, {
      overrides: {
        taskResourceLocalHandlers: this.taskHandlers[workflow] as never,
        waitTimeOverrides: overrideAll(this.waitStates[workflow], this.options.waitOverrideMs),
        retryIntervalOverrides: overrideAll(this.retryStates[workflow], this.options.retryOverrideMs),
      },
      context: { Execution: { Id: executionArn, Name: executionName } },
    });
    const summary: ExecutionSummary = {
      executionArn,
      workflow,
      name: executionName,
      status: 'RUNNING',
      input,
      startDate: new Date(),
      stateTransitions: 0,
    };
    const history: HistoryEvent[] = [];
    const record: Run = { summary, history, abort: execution.abort, done: Promise.resolve() };
    record.done = this.follow(record, execution);
    this.runs.set(executionArn, record);
    return executionArn;
  }

  /** Every execution this runner started, oldest first. */
  executions(): ExecutionSummary[] {
    return [...this.runs.values()].map((run) => ({ ...run.summary }));
  }

  execution(executionArn: string): ExecutionSummary | undefined {
    const run = this.runs.get(executionArn);
    return run ? { ...run.summary } : undefined;
  }

  /** An execution this runner never started (a plane before it) runs no more. */
  async isRunning(executionArn: string): Promise<boolean> {
    return this.runs.get(executionArn)?.summary.status === 'RUNNING';
  }

  /** The execution of `workflow` named `executionName`, as Step Functions' DescribeExecution tells it. */
  async describe(workflow: WorkflowName, executionName: string): Promise<WorkflowExecution | undefined> {
    const summary = this.runs.get(localExecutionArn(workflow, executionName))?.summary;
    if (!summary) return undefined;
    const error = [summary.error, summary.cause].filter(Boolean).join(': ');
    return {
      status: summary.status,
      ...(summary.status === 'SUCCEEDED' ? { output: jsonCopy(summary.output) } : {}),
      ...(summary.status !== 'SUCCEEDED' && error ? { error } : {}),
    };
  }

  /** Resolves with the execution's summary once it ended (at once for one that ended, or was never started here). */
  async ended(executionArn: string): Promise<ExecutionSummary | undefined> {
    const run = this.runs.get(executionArn);
    if (!run) return undefined;
    await run.done;
    return { ...run.summary };
  }

  /** The execution's events so far (states entered, exited, failed, retried, caught). */
  history(executionArn: string): readonly HistoryEvent[] {
    return [...(this.runs.get(executionArn)?.history ?? [])];
  }

  /** How many states the execution entered (including those inside Map iterations). */
  stateTransitions(executionArn: string): number {
    return this.runs.get(executionArn)?.summary.stateTransitions ?? 0;
  }

  /** Resolves once no execution is running (also those started while waiting). */
  async waitForIdle(): Promise<void> {
    for (;;) {
      const running = [...this.runs.values()].filter((run) => run.summary.status === 'RUNNING');
      if (running.length === 0) return;
      await Promise.all(running.map((run) => run.done));
    }
  }

  /** Aborts every running execution (they end ABORTED). */
  abortAll(): void {
    for (const run of this.runs.values()) if (run.summary.status === 'RUNNING') run.abort();
  }

  private async follow(record: Run, execution: Execution): Promise<void> {
    const logged = (async () => {
      for await (const event of execution.eventLogs) {
        record.history.push(event);
        if (event.type === 'StateEntered') record.summary.stateTransitions++;
      }
    })();
    const [outcome] = await Promise.allSettled([execution.result, logged]);
    Object.assign(record.summary, { stopDate: new Date(), ...ending(outcome) });
    try {
      this.options.onExecutionEnd?.({ ...record.summary });
    } catch (error) {
      // A listener's bug must not turn into an unhandled rejection of the run.
      process.emitWarning(`onExecutionEnd threw: ${String(error)}`);
    }
  }

  /** One local override per Task state, dispatching on the state's FunctionName to its task's handler. */
  private lambdaTasks(
    workflow: ExtractedWorkflow,
    handlerFor: (task: TaskName) => Handler,
  ): Record<string, (input: unknown) => Promise<unknown>> {
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, state] of allStates(workflow.definition)) {
      if (state.Type !== 'Task') continue;
      const functionName = String(state.Parameters?.FunctionName);
      const task = workflow.tasks[functionName];
      // Without an override the interpreter would call the real AWS Lambda.
      if (!task) throw new Error(`task state ${stateName} calls ${functionName}, which maps to no task`);
      overrides[stateName] = async (input) => {
        const { Payload } = input as { Payload?: unknown };
        const payload = jsonCopy(Payload ?? {});
        const context = lambdaContext(functionName, Number(state.TimeoutSeconds ?? 60) * 1000);
        const call = async () => handlerFor(task)(jsonCopy(payload) as never, context);
        const result = this.options.interceptor
          ? await this.options.interceptor(stateName, payload, call)
          : await call();
        return { ExecutedVersion: '$LATEST', Payload: jsonCopy(result ?? null), StatusCode: 200 };
      };
    }
    return overrides;
  }
}

function localExecutionArn(workflow: WorkflowName, executionName: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${workflow}:${executionName}`;
}

function ending(outcome: PromiseSettledResult<unknown>): Partial<ExecutionSummary> {
  if (outcome.status === 'fulfilled') return { status: 'SUCCEEDED', output: outcome.value };
  const error = outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason));
  if (error.name === 'ExecutionAbortedError') return { status: 'ABORTED' };
  if (error.name === 'ExecutionTimeoutError') return { status: 'TIMED_OUT', error: 'States.Timeout' };
  // ExecutionError wraps what ended the run: a Fail state (its Error and Cause) or an uncaught error.
  const cause = error.cause instanceof Error ? error.cause : error;
  return { status: 'FAILED', error: cause.name, cause: cause.message };
}

function stateNames(
  workflow: ExtractedWorkflow,
  test: (state: { Type: string; Retry?: unknown }) => boolean,
): string[] {
  return allStates(workflow.definition)
    .filter(([, state]) => test(state))
    .map(([name]) => name);
}

function overrideAll(names: readonly string[], ms: number | undefined): Record<string, number> | undefined {
  return ms === undefined ? undefined : Object.fromEntries(names.map((name) => [name, ms]));
}

/** What a value looks like after Lambda's JSON round trip. */
function jsonCopy(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}

function lambdaContext(functionArn: string, timeoutMs: number): Context {
  const functionName = functionArn.split(':').at(-1) ?? 'local';
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
