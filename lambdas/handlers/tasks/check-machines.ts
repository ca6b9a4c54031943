import { EC2, RUNTIME, readConfig, TABLE } from '../../config.ts';
import { ec2FromConfig } from '../composition/machines.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { stepHandler } from './steps.ts';

export const handler = stepHandler('checkMachines', {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  provider: ec2FromConfig(readConfig(EC2), readConfig(RUNTIME).region).provider,
  clock: systemClock,
});
