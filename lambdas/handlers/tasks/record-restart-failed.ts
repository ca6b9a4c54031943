import { HttpReadinessProbe } from '../../adapters/http/readiness-probe.ts';
import { PROBE, readConfig, TABLE } from '../../config.ts';
import { recordRestartFailed } from '../../domain/workflow/record-restart.ts';
import { systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

/** In the VPC, HTTP only: one look at the cluster decides between READY and FAILED. */
export const handler = lambdaTask('recordRestartFailed', recordRestartFailed, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  probe: new HttpReadinessProbe(),
  settings: readConfig(PROBE),
});
