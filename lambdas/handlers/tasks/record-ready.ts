import { readConfig, TABLE } from '../../config.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { stepHandler } from './steps.ts';

export const handler = stepHandler('recordReady', {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  clock: systemClock,
});
