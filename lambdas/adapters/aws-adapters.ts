/**
 * Every AWS adapter at once, with the caller's credentials: for
 * `bilbo local --provider ec2` (the original bilbo's single-user mode) and
 * for tests that put EC2 and SSM behind mocks. The Lambdas build only the
 * ones their step uses (lambdas/handlers/composition).
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { IMAGE_SERVICE_ACCOUNT } from '../domain/kinds/index.ts';
import type { RemoteCommandRunner, SecretStore, ServiceRestarter } from '../domain/ports.ts';
import { type Ec2Adapters, type Ec2AdaptersConfig, ec2Adapters, ec2Client } from './ec2/ec2-adapters.ts';
import { ssmRemoteCommands } from './ssm/remote-commands.ts';
import { SsmSecretStore } from './ssm/secret-store.ts';
import { SystemdServiceRestarter } from './systemd/service-restarter.ts';

export interface AwsAdapters extends Ec2Adapters {
  secrets: SecretStore;
  remote: RemoteCommandRunner;
  services: ServiceRestarter;
}

export function awsAdapters(
  config: Ec2AdaptersConfig,
  clients: { ec2: EC2Client; ssm: SSMClient } = {
    ec2: ec2Client(config.region),
    ssm: new SSMClient({ region: config.region }),
  },
): AwsAdapters {
  const remote = ssmRemoteCommands(clients.ssm, IMAGE_SERVICE_ACCOUNT);
  return {
    ...ec2Adapters(config, clients.ec2),
    secrets: new SsmSecretStore({ client: clients.ssm }),
    remote,
    services: new SystemdServiceRestarter({ commands: remote }),
  };
}
