import {
  DeleteParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { ProviderBusyError } from '../../domain/errors.ts';
import type { SecretKey, SecretStore } from '../../domain/ports.ts';
import { DEFAULT_SECRETS_PREFIX, SecretPaths } from './secret-names.ts';

export interface SsmSecretStoreOptions {
  client: SSMClient;
  /** Where the clusters' secrets live. @default DEFAULT_SECRETS_PREFIX */
  prefix?: string;
  /** The KMS key that encrypts the SecureStrings. @default the account's `alias/aws/ssm` */
  kmsKeyId?: string;
}

/** DeleteParameters takes at most 10 names per call. */
const DELETE_BATCH = 10;
/** GetParametersByPath answers at most 10 parameters per page. */
const PAGE_SIZE = 10;
const BUSY_ERRORS = new Set(['ThrottlingException', 'TooManyUpdates', 'InternalServerError']);

/**
 * Cluster secrets as SSM SecureString parameters named
 * `<prefix>/<clusterId>/<key>`, which the cluster's instances read at boot
 * with their instance role (see each kind's user-data under domain/kinds).
 *
 * No tags: PutParameter refuses Tags together with Overwrite, and a retried
 * put must overwrite. The path alone scopes the instance role's access.
 */
export class SsmSecretStore implements SecretStore {
  private readonly client: SSMClient;
  private readonly paths: SecretPaths;
  private readonly kmsKeyId: string | undefined;

  constructor(options: SsmSecretStoreOptions) {
    this.client = options.client;
    this.paths = new SecretPaths(options.prefix ?? DEFAULT_SECRETS_PREFIX);
    this.kmsKeyId = options.kmsKeyId;
  }

  nameOf(clusterId: string, key: SecretKey): string {
    return this.paths.nameOf(clusterId, key);
  }

  async put(clusterId: string, key: SecretKey, value: string): Promise<string> {
    const name = this.nameOf(clusterId, key);
    await this.call(`store the secret ${name}`, () =>
      this.client.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: 'SecureString',
          Overwrite: true,
          Tier: 'Standard',
          ...(this.kmsKeyId ? { KeyId: this.kmsKeyId } : {}),
        }),
      ),
    );
    return name;
  }

  async read(name: string): Promise<string | undefined> {
    try {
      const answer = await this.call(`read the secret ${name}`, () =>
        this.client.send(new GetParameterCommand({ Name: name, WithDecryption: true })),
      );
      return answer.Parameter?.Value;
    } catch (error) {
      if (error instanceof Error && error.name === 'ParameterNotFound') return undefined;
      throw error;
    }
  }

  async removeAll(clusterId: string): Promise<void> {
    const names = await this.namesUnder(this.paths.pathOf(clusterId));
    for (let start = 0; start < names.length; start += DELETE_BATCH) {
      const batch = names.slice(start, start + DELETE_BATCH);
      // Names already gone come back in InvalidParameters: removing is idempotent.
      await this.call(`remove the secrets of cluster ${clusterId}`, () =>
        this.client.send(new DeleteParametersCommand({ Names: batch })),
      );
    }
  }

  private async namesUnder(path: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call(`list the secrets under ${path}`, () =>
        this.client.send(
          new GetParametersByPathCommand({
            Path: path,
            Recursive: true,
            WithDecryption: false,
            MaxResults: PAGE_SIZE,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      for (const parameter of page.Parameters ?? []) if (parameter.Name) names.push(parameter.Name);
      nextToken = page.NextToken;
    } while (nextToken);
    return names;
  }

  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof Error && BUSY_ERRORS.has(error.name)) {
        throw new ProviderBusyError(`SSM is busy and could not ${what}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
}
