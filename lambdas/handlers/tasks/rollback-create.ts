import { EC2, RUNTIME, readConfig, SECRETS, TABLE } from '../../config.ts';
import { ec2FromConfig } from '../composition/machines.ts';
import { systemClock } from '../composition/runtime.ts';
import { ssmSecrets } from '../composition/secrets.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { stepHandler } from './steps.ts';

const { region } = readConfig(RUNTIME);

export const handler = stepHandler('rollbackCreate', {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  provider: ec2FromConfig(readConfig(EC2), region).provider,
  secrets: ssmSecrets(readConfig(SECRETS), region),
  clock: systemClock,
});
