import { HttpReadinessProbe } from '../../adapters/http/readiness-probe.ts';
import {
  DEADLINES,
  EC2,
  PROBE,
  REAPER,
  RUNTIME,
  readConfig,
  SECRETS,
  SWEEP_WORKFLOW_ARNS,
  TABLE,
} from '../../config.ts';
import type { SweepDeps } from '../../domain/use-cases/sweep-clusters.ts';
import { sweep } from '../../domain/workflow/sweep.ts';
import type { WorkflowInputs } from '../../domain/workflows.ts';
import { ec2FromConfig } from '../composition/machines.ts';
import { ssmCommands } from '../composition/remote-commands.ts';
import { newCommandId, sleep, systemClock } from '../composition/runtime.ts';
import { ssmSecrets } from '../composition/secrets.ts';
import { dynamoDbCommands, dynamoDbStore } from '../composition/store.ts';
import { sfnWorkflows } from '../composition/workflows.ts';
import { logger } from '../logger.ts';
import { summarizeSweep, sweepMetrics } from '../sweep-summary.ts';
import { lambdaTask } from './task-handler.ts';

const { region } = readConfig(RUNTIME);
const ec2 = readConfig(EC2);
const secrets = ssmSecrets(readConfig(SECRETS), region);
const metrics = sweepMetrics(ec2.deploymentId);

/**
 * In the VPC, placed as the readiness probe is: the services on the
 * instances' private addresses (and the notebook's token from SSM), the
 * machines through EC2, the safety check through SSM Run Command, and the
 * destroy and pause workflows it starts.
 */
const deps: SweepDeps = {
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  commands: dynamoDbCommands(readConfig(TABLE)),
  provider: ec2FromConfig(ec2, region).provider,
  secrets,
  workflows: sfnWorkflows(readConfig(SWEEP_WORKFLOW_ARNS)),
  remote: ssmCommands(region),
  servicesProbe: { probe: new HttpReadinessProbe(), network: readConfig(PROBE).network, secrets },
  clock: systemClock,
  sleep,
  newCommandId,
  ...readConfig(DEADLINES),
  // The reaper acts as itself (a system actor), never as a person: no admins to name.
  access: { admins: [] },
  reaper: readConfig(REAPER),
};

export const handler = lambdaTask(
  'sweep',
  async (input: WorkflowInputs['sweep'], sweepDeps: SweepDeps) => {
    const report = await sweep(input, sweepDeps);
    summarizeSweep(report, input, { logger, metrics });
    return report;
  },
  deps,
);
