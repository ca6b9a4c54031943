import { HttpReadinessProbe } from '../../adapters/http/readiness-probe.ts';
import { PROBE, readConfig, TABLE } from '../../config.ts';
import { probeReady } from '../../domain/workflow/probe-ready.ts';
import { sleep, systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

/** HTTP only: this function runs in the VPC, with no access to EC2 (the workflow checks the machines). */
export const handler = lambdaTask('probeReady', probeReady, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  probe: new HttpReadinessProbe(),
  clock: systemClock,
  sleep,
  settings: readConfig(PROBE),
});
