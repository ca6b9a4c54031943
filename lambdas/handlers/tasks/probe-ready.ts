import { HttpReadinessProbe } from '../../adapters/http/readiness-probe.ts';
import { PROBE, RUNTIME, readConfig, SECRETS, TABLE } from '../../config.ts';
import { probeReady } from '../../domain/workflow/probe-ready.ts';
import { sleep, systemClock } from '../composition/runtime.ts';
import { ssmSecrets } from '../composition/secrets.ts';
import { dynamoDbStore } from '../composition/store.ts';
import { lambdaTask } from './task-handler.ts';

/** In the VPC, with no access to EC2 (the workflow checks the machines): HTTP, and the notebook token from SSM. */
export const handler = lambdaTask('probeReady', probeReady, {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  probe: new HttpReadinessProbe(),
  secrets: ssmSecrets(readConfig(SECRETS), readConfig(RUNTIME).region),
  clock: systemClock,
  sleep,
  settings: readConfig(PROBE),
});
