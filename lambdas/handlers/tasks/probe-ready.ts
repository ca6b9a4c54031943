import { HttpReadinessProbe } from '../../adapters/http/readiness-probe.ts';
import { PROBE, readConfig, TABLE } from '../../config.ts';
import { sleep, systemClock } from '../composition/runtime.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { stepHandler } from './steps.ts';

/** HTTP only: this function runs in the VPC, with no access to EC2 (the workflow checks the machines). */
export const handler = stepHandler('probeReady', {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  probe: new HttpReadinessProbe(),
  clock: systemClock,
  sleep,
  settings: readConfig(PROBE),
});
