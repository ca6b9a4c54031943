import { SSMClient } from '@aws-sdk/client-ssm';
import { SsmSecretStore } from '../../adapters/ssm/secret-store.ts';
import type { ConfigOf, SECRETS } from '../../config.ts';
import type { SecretStore } from '../../domain/ports.ts';

/** The clusters' secrets in SSM: for the functions that write, read or remove them. */
export function ssmSecrets(config: ConfigOf<typeof SECRETS>, region: string): SecretStore {
  return new SsmSecretStore({ client: new SSMClient({ region }), prefix: config.prefix });
}
