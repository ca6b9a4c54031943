/**
 * Every AWS adapter at once, with the caller's credentials: for
 * `bilbo local --provider ec2` (the original bilbo's single-user mode) and
 * for tests that put EC2 and SSM behind mocks. The Lambdas build only the
 * ones their step uses (lambdas/handlers/composition).
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { SecretStore, ServiceRestarter } from '../domain/ports.ts';
import { type Ec2Adapters, type Ec2AdaptersConfig, ec2Adapters, ec2Client } from './ec2/ec2-adapters.ts';
import { SsmSecretStore } from './ssm/secret-store.ts';
import { SystemdServiceRestarter } from './systemd/service-restarter.ts';
import { UNWIRED_REMOTE_COMMANDS } from './unwired-remote-commands.ts';

export interface AwsAdapters extends Ec2Adapters {
  secrets: SecretStore;
  services: ServiceRestarter;
}

export function awsAdapters(
  config: Ec2AdaptersConfig,
  clients: { ec2: EC2Client; ssm: SSMClient } = {
    ec2: ec2Client(config.region),
    ssm: new SSMClient({ region: config.region }),
  },
): AwsAdapters {
  return {
    ...ec2Adapters(config, clients.ec2),
    secrets: new SsmSecretStore({ client: clients.ssm }),
    services: new SystemdServiceRestarter({ commands: UNWIRED_REMOTE_COMMANDS }),
  };
}
