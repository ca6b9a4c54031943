/**
 * The provider adapters for real AWS, built in one place for both the
 * Lambdas (configured from their environment) and `bilbo local --provider
 * ec2` (configured from flags, with the caller's credentials). The SDK
 * clients honour AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2 / _SSM, so the
 * whole path can point at any EC2-compatible endpoint.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { renderUserData } from '../domain/dask/user-data.ts';
import type { InstanceTypeCatalog, LaunchPreflight, MachineProvider, SecretStore } from '../domain/ports.ts';
import { Ec2MachineProvider } from './ec2/ec2-provider.ts';
import { Ec2InstanceTypeCatalog } from './ec2/instance-type-catalog.ts';
import { Ec2LaunchPreflight } from './ec2/preflight.ts';
import { RetryingMachineProvider } from './retrying-provider.ts';
import { SsmSecretStore } from './ssm/secret-store.ts';

export interface AwsAdaptersConfig {
  region: string;
  subnetIds: string[];
  clusterSecurityGroupId: string;
  instanceProfileArn: string;
  defaultAmi?: string;
  /** @default '/bilbo/clusters' */
  secretsPrefix?: string;
}

export interface AwsAdapters {
  provider: MachineProvider;
  catalog: InstanceTypeCatalog;
  preflight: LaunchPreflight;
  secrets: SecretStore;
}

export function awsAdapters(config: AwsAdaptersConfig, clients = awsClients(config.region)): AwsAdapters {
  const providerConfig = {
    subnetIds: config.subnetIds,
    clusterSecurityGroupId: config.clusterSecurityGroupId,
    instanceProfileArn: config.instanceProfileArn,
    ...(config.defaultAmi ? { defaultAmi: config.defaultAmi } : {}),
  };
  const ec2 = new Ec2MachineProvider({
    client: clients.ec2,
    config: providerConfig,
    renderUserData: (request) =>
      renderUserData({
        clusterId: request.clusterId,
        clusterName: request.clusterName,
        role: request.role,
        bootstrap: request.bootstrap,
        region: config.region,
      }),
  });
  return {
    provider: new RetryingMachineProvider(ec2),
    catalog: new Ec2InstanceTypeCatalog({ client: clients.ec2 }),
    preflight: new Ec2LaunchPreflight({ client: clients.ec2, config: providerConfig }),
    secrets: new SsmSecretStore({
      client: clients.ssm,
      ...(config.secretsPrefix ? { prefix: config.secretsPrefix } : {}),
    }),
  };
}

export function awsClients(region: string): { ec2: EC2Client; ssm: SSMClient } {
  // Retries live above the providers (RetryingMachineProvider), in one place.
  return { ec2: new EC2Client({ region, maxAttempts: 1 }), ssm: new SSMClient({ region }) };
}
