/** The API Lambda: the use cases over the deployment's table, workflows, EC2 and SSM. */
import { ACCESS, DEADLINES, EC2, RUNTIME, readConfig, SECRETS, TABLE, WORKFLOW_ARNS } from '../config.ts';
import { createApiHandler } from './api/app.ts';
import { ec2FromConfig } from './composition/machines.ts';
import { ssmCommands } from './composition/remote-commands.ts';
import { newClusterId, newCommandId, newSecret, newSweepId, systemClock } from './composition/runtime.ts';
import { ssmSecrets } from './composition/secrets.ts';
import { dynamoDbCommands, dynamoDbStore } from './composition/store.ts';
import { sfnWorkflows } from './composition/workflows.ts';

const { region } = readConfig(RUNTIME);
const { provider, catalog, preflight } = ec2FromConfig(readConfig(EC2), region);

export const handler = createApiHandler({
  store: dynamoDbStore(readConfig(TABLE), systemClock),
  catalog,
  preflight,
  workflows: sfnWorkflows(readConfig(WORKFLOW_ARNS)),
  secrets: ssmSecrets(readConfig(SECRETS), region),
  clock: systemClock,
  newClusterId,
  newSecret,
  ...readConfig(DEADLINES),
  access: readConfig(ACCESS),
  commands: dynamoDbCommands(readConfig(TABLE)),
  remote: ssmCommands(region),
  newCommandId,
  // Reads look at the machines for the clusters' health. Outside the VPC the
  // function cannot reach the services: their part is the reaper's last look.
  provider,
  // `bilbo reap` starts the sweep workflow, whose function runs in the VPC.
  newSweepId,
});
