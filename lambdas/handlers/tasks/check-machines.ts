import { EC2, RUNTIME, readConfig, TABLE } from '../../config.ts';
import { checkMachines } from '../../domain/workflow/check-machines.ts';
import { ec2FromConfig } from '../composition/machines.ts';
import { ssmCommands } from '../composition/remote-commands.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

const { region } = readConfig(RUNTIME);

export const handler = lambdaTask('checkMachines', checkMachines, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  provider: ec2FromConfig(readConfig(EC2), region).provider,
  remote: ssmCommands(region),
  clock: systemClock,
});
