import { HttpReadinessProbe } from '../../adapters/http/readiness-probe.ts';
import { PROBE, RUNTIME, readConfig, SECRETS, TABLE } from '../../config.ts';
import { recordRestartFailed } from '../../domain/workflow/record-restart.ts';
import { systemClock } from '../composition/runtime.ts';
import { ssmSecrets } from '../composition/secrets.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

/** In the VPC, like the probe: one look at the cluster decides between READY and FAILED. */
export const handler = lambdaTask('recordRestartFailed', recordRestartFailed, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  probe: new HttpReadinessProbe(),
  secrets: ssmSecrets(readConfig(SECRETS), readConfig(RUNTIME).region),
  settings: readConfig(PROBE),
});
