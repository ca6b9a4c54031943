import { SecretPaths } from '../../adapters/ssm/secret-names.ts';
import { RUNTIME, readConfig, SECRETS, TABLE } from '../../config.ts';
import { runInit } from '../../domain/workflow/run-init.ts';
import { ssmCommands } from '../composition/remote-commands.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbCommands, dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('runInit', runInit, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  commands: dynamoDbCommands(readConfig(TABLE)),
  remote: ssmCommands(readConfig(RUNTIME).region),
  clock: systemClock,
  secrets: new SecretPaths(readConfig(SECRETS).prefix),
});
