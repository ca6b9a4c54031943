import { EC2, RUNTIME, readConfig, SECRETS, TABLE } from '../../config.ts';
import type { CleanupDeps } from '../../domain/workflow/cleanup.ts';
import { ec2FromConfig } from './machines.ts';
import { systemClock } from './runtime.ts';
import { ssmSecrets } from './secrets.ts';
import { dynamoDbStore } from './store.ts';

/** What the steps that terminate a cluster's machines and remove its secrets need, from the environment. */
export function cleanupFromEnvironment(): CleanupDeps {
  const { region } = readConfig(RUNTIME);
  return {
    store: dynamoDbStore(readConfig(TABLE), systemClock),
    provider: ec2FromConfig(readConfig(EC2), region).provider,
    secrets: ssmSecrets(readConfig(SECRETS), region),
    clock: systemClock,
  };
}
