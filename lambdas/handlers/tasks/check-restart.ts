import { RUNTIME, readConfig, TABLE } from '../../config.ts';
import { checkRestart } from '../../domain/workflow/restart-role.ts';
import { systemClock } from '../composition/runtime.ts';
import { systemdServices } from '../composition/services.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('checkRestart', checkRestart, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  services: systemdServices(readConfig(RUNTIME).region),
  clock: systemClock,
});
