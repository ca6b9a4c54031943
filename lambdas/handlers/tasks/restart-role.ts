import { RUNTIME, readConfig, TABLE } from '../../config.ts';
import { restartRole } from '../../domain/workflow/restart-role.ts';
import { systemClock } from '../composition/runtime.ts';
import { systemdServices } from '../composition/services.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('restartRole', restartRole, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  services: systemdServices(readConfig(RUNTIME).region),
});
