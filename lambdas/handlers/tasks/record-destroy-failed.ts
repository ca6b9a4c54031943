import { readConfig, TABLE } from '../../config.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { stepHandler } from './steps.ts';

export const handler = stepHandler('recordDestroyFailed', {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
});
