import { EC2, RUNTIME, readConfig, TABLE } from '../../config.ts';
import type { PauseStepDeps } from '../../domain/workflow/pause-steps.ts';
import { ec2FromConfig } from './machines.ts';
import { systemClock } from './runtime.ts';
import { dynamoDbStore } from './store.ts';

/** What the steps that stop or start a cluster's machines need, from the environment. */
export function machineStepsFromEnvironment(): PauseStepDeps {
  const { region } = readConfig(RUNTIME);
  return {
    store: dynamoDbStore(readConfig(TABLE), systemClock),
    provider: ec2FromConfig(readConfig(EC2), region).provider,
    clock: systemClock,
  };
}
