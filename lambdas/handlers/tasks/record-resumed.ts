import { readConfig, TABLE } from '../../config.ts';
import { recordResumed } from '../../domain/workflow/resume-steps.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('recordResumed', recordResumed, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  clock: systemClock,
});
