import { readConfig, TABLE } from '../../config.ts';
import { recordRestarted } from '../../domain/workflow/record-restart.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('recordRestarted', recordRestarted, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  clock: systemClock,
});
