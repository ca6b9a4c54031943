/**
 * The shapes every workflow is built from: a Lambda step of a registered
 * task, a step whose failure goes to a compensation (the saga), the job
 * poller (check → Choice → Wait → check), and steps run for each item of a
 * list in turn.
 */
import { Duration } from 'aws-cdk-lib';
import {
  Choice,
  Condition,
  Errors,
  Fail,
  type IChainable,
  type INextable,
  JsonPath,
  type Map as MapState,
  Pass,
  type State,
  TaskInput,
  Timeout,
  Wait,
  type WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { TaskName } from '../../lambdas/handlers/tasks/task-names.ts';
import type { TaskFunctions } from './tasks.ts';

/** The saga compensations retry on any error: they are idempotent and must not be skipped. */
export const COMPENSATION_RETRY = {
  errors: [Errors.ALL],
  maxAttempts: 3,
  interval: Duration.seconds(2),
  backoffRate: 2,
};

/** Where the compensations read the name of the step that failed. */
export const FAILED_STEP_PATH = '$.failed.step';

/** Where a step's answer goes: `path`, trimmed to `fields`. */
export interface StepResult {
  path: string;
  fields: readonly string[];
}

/** Builds the Lambda steps of one workflow's definition. */
export class Steps {
  constructor(
    readonly scope: Construct,
    private readonly tasks: TaskFunctions,
  ) {}

  /**
   * One Lambda step calling `task` with `payload`. Its answer lands at
   * `result.path`, trimmed to `result.fields`; without `result` the step
   * passes its input on.
   */
  invoke(id: string, task: TaskName, payload: Record<string, unknown>, result?: StepResult): LambdaInvoke {
    return new LambdaInvoke(this.scope, id, {
      lambdaFunction: this.tasks.of(task),
      payload: TaskInput.fromObject(payload),
      payloadResponseOnly: false,
      retryOnServiceExceptions: true,
      taskTimeout: Timeout.duration(this.tasks.timeoutOf(task)),
      ...(result
        ? {
            resultSelector: Object.fromEntries(
              result.fields.map((field) => [`${field}.$`, `$.Payload.${field}`]),
            ),
            resultPath: result.path,
          }
        : { resultPath: JsonPath.DISCARD }),
    });
  }

  /**
   * One Lambda step calling `task` with the state's whole input, whose
   * answer is the state's output (the workflow's, as its last step).
   */
  answer(id: string, task: TaskName): LambdaInvoke {
    return new LambdaInvoke(this.scope, id, {
      lambdaFunction: this.tasks.of(task),
      payload: TaskInput.fromJsonPathAt(JsonPath.entirePayload),
      payloadResponseOnly: false,
      retryOnServiceExceptions: true,
      taskTimeout: Timeout.duration(this.tasks.timeoutOf(task)),
      outputPath: '$.Payload',
    });
  }

  /**
   * The workflow's compensation: `task` with the cluster, the failed step's
   * name and the error, retried on any error, then a Fail state with
   * `error`. Returns the saga wiring that routes a step's failures to it.
   */
  compensation(
    id: string,
    task: TaskName,
    fail: { id: string; error: string },
  ): (step: LambdaInvoke | MapState, failedStep: string) => void {
    const compensate = this.invoke(id, task, {
      clusterId: JsonPath.stringAt('$.clusterId'),
      failedStep: JsonPath.stringAt(FAILED_STEP_PATH),
      error: JsonPath.objectAt('$.error'),
    });
    compensate.addRetry(COMPENSATION_RETRY);
    compensate.next(new Fail(this.scope, fail.id, { error: fail.error, causePath: '$.error.Cause' }));
    return this.compensatedBy(compensate);
  }

  /**
   * The saga wiring: `saga(step, 'step-name')` sends every failure of
   * `step` to a `<Step>Failed` Pass that records the step's name at
   * `$.failed.step` (the error is at `$.error`), then to the compensation.
   * The name may be a JsonPath expression (`JsonPath.format(…)`).
   */
  compensatedBy(compensation: State): (step: LambdaInvoke | MapState, failedStep: string) => void {
    return (step, failedStep) => {
      const marker = new Pass(this.scope, `${step.id}Failed`, {
        parameters: { step: failedStep },
        resultPath: FAILED_STEP_PATH.replace(/\.step$/, ''),
      });
      marker.next(compensation);
      step.addCatch(marker, { errors: [Errors.ALL], resultPath: '$.error' });
    };
  }

  /**
   * The job poller after `check`: a Choice named `choice` that goes on to
   * `whenDone` once `done` holds, and otherwise waits and goes back to
   * `loopTo` (the check itself, unless another step comes first).
   */
  pollLoop(
    check: INextable,
    loop: {
      choice: string;
      done: Condition;
      whenDone: IChainable;
      wait: { id: string; time: WaitTime };
      loopTo?: IChainable;
    },
  ): Choice {
    const wait = new Wait(this.scope, loop.wait.id, { time: loop.wait.time });
    const choice = new Choice(this.scope, loop.choice)
      .when(loop.done, loop.whenDone)
      .otherwise(wait.next(loop.loopTo ?? (check as unknown as IChainable)));
    check.next(choice);
    return choice;
  }

  /**
   * Runs the steps `body` builds once for each item of the list at
   * `itemsPath`, one after another, then goes on to `after`. The turn is
   * kept at `turnPath` (`{index, count, item}`); the body reads its item at
   * `<turnPath>.item` and ends by going to the `next` it is given. A failing
   * step leaves the loop through its own catch, so nothing after it starts.
   * Pure ASL rather than a Map with MaxConcurrency 1: aws-local-stepfunctions
   * still starts the items queued behind a failed one, which would launch a
   * role after the create had begun its rollback.
   */
  eachInTurn(
    id: string,
    paths: { itemsPath: string; turnPath: string },
    body: (next: IChainable) => IChainable,
    after: IChainable,
  ): Pass {
    const { itemsPath, turnPath } = paths;
    const index = JsonPath.numberAt(`${turnPath}.index`);
    const count = JsonPath.numberAt(`${turnPath}.count`);
    const start = new Pass(this.scope, `${id}Start`, {
      parameters: { index: 0, count: JsonPath.arrayLength(JsonPath.listAt(itemsPath)) },
      resultPath: turnPath,
    });
    const take = new Pass(this.scope, `${id}Next`, {
      parameters: { index, count, item: JsonPath.arrayGetItem(JsonPath.listAt(itemsPath), index) },
      resultPath: turnPath,
    });
    const advance = new Pass(this.scope, `${id}Advance`, {
      parameters: { index: JsonPath.mathAdd(index, 1), count },
      resultPath: turnPath,
    });
    const more = new Choice(this.scope, `${id}More?`)
      .when(Condition.numberLessThanJsonPath(`${turnPath}.index`, `${turnPath}.count`), take)
      .otherwise(after);
    start.next(more);
    take.next(body(advance));
    advance.next(more);
    return start;
  }
}
