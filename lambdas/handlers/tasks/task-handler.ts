import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../logger.ts';
import { stepName, type TaskName } from './task-names.ts';

/**
 * A workflow step as a Lambda: the input is the state's Payload, the
 * output is plain domain data, and an error is thrown as is so the state
 * machine's Catch sees its class name as the error.
 */
export function taskHandler<Input, Output>(step: string, run: (input: Input) => Promise<Output>) {
  return middy(async (input: Input) => {
    logger.appendKeys({ step });
    return run(input);
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/** The task's Lambda handler: its domain step over these dependencies, logged under its step name. */
export function lambdaTask<Input, Deps, Output>(
  task: TaskName,
  step: (input: Input, deps: Deps) => Promise<Output>,
  deps: Deps,
) {
  return taskHandler(stepName(task), (input: Input) => step(input, deps));
}
