import { readConfig, TABLE } from '../../config.ts';
import { recordPaused } from '../../domain/workflow/pause-steps.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('recordPaused', recordPaused, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  clock: systemClock,
});
