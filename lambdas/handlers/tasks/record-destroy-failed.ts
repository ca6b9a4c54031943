import { readConfig, TABLE } from '../../config.ts';
import { recordDestroyFailed } from '../../domain/workflow/destroy-steps.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('recordDestroyFailed', recordDestroyFailed, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
});
