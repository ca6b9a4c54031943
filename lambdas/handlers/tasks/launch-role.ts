import { SecretPaths } from '../../adapters/ssm/secret-names.ts';
import { EC2, RUNTIME, readConfig, SECRETS, TABLE } from '../../config.ts';
import { launchRole } from '../../domain/workflow/launch-role.ts';
import { ec2FromConfig } from '../composition/machines.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

const { region } = readConfig(RUNTIME);

export const handler = lambdaTask('launchRole', launchRole, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  provider: ec2FromConfig(readConfig(EC2), region).provider,
  // Only the secrets' names: machines read them at boot, so the launch needs no SSM client.
  secrets: new SecretPaths(readConfig(SECRETS).prefix),
});
