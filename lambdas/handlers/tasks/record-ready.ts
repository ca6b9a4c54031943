import { readConfig, TABLE } from '../../config.ts';
import { recordReady } from '../../domain/workflow/record-ready.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('recordReady', recordReady, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  clock: systemClock,
});
