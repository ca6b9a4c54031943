/**
 * The EC2 side of a deployment, built in one place for the Lambdas
 * (configured from their environment) and for `bilbo local --provider ec2`
 * (configured from flags, with the caller's credentials). The SDK client
 * honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2, so the whole path can
 * point at any EC2-compatible endpoint.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { kindOf } from '../../domain/kinds/index.ts';
import type { InstanceTypeCatalog, LaunchPreflight, MachineProvider } from '../../domain/ports.ts';
import { RetryingMachineProvider } from '../retrying-provider.ts';
import { Ec2MachineProvider } from './ec2-provider.ts';
import { Ec2InstanceTypeCatalog } from './instance-type-catalog.ts';
import type { Ec2ProviderConfig } from './launch-params.ts';
import { Ec2LaunchPreflight } from './preflight.ts';

export interface Ec2AdaptersConfig extends Ec2ProviderConfig {
  region: string;
  /** Where the provider reports instances it refuses to touch (Ec2MachineProviderOptions.warn). */
  warn?: (message: string) => void;
}

export interface Ec2Adapters {
  provider: MachineProvider;
  catalog: InstanceTypeCatalog;
  preflight: LaunchPreflight;
}

/** Retries live above the providers (RetryingMachineProvider), in one place: the client makes one attempt. */
export function ec2Client(region: string): EC2Client {
  return new EC2Client({ region, maxAttempts: 1 });
}

export function ec2Adapters(
  config: Ec2AdaptersConfig,
  client: EC2Client = ec2Client(config.region),
): Ec2Adapters {
  const { region, warn, ...providerConfig } = config;
  const ec2 = new Ec2MachineProvider({
    client,
    config: providerConfig,
    renderUserData: (request) => kindOf(request.bootstrap.kind).userData(request, region),
    ...(warn ? { warn } : {}),
  });
  return {
    provider: new RetryingMachineProvider(ec2),
    catalog: new Ec2InstanceTypeCatalog({ client }),
    preflight: new Ec2LaunchPreflight({ client, config: providerConfig }),
  };
}
