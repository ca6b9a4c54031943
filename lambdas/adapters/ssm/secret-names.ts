import type { SecretKey, SecretNames } from '../../domain/ports.ts';

/** Where every cluster's secrets live in SSM Parameter Store, unless a deployment says otherwise. */
export const DEFAULT_SECRETS_PREFIX = '/bilbo/clusters';

/**
 * The names of a cluster's secrets, `<prefix>/<clusterId>/<key>`: pure, so
 * a step that only tells machines which secrets to read needs no SSM client.
 */
export class SecretPaths implements SecretNames {
  readonly prefix: string;

  constructor(prefix: string = DEFAULT_SECRETS_PREFIX) {
    this.prefix = prefix.replace(/\/+$/, '');
  }

  nameOf(clusterId: string, key: SecretKey): string {
    return `${this.pathOf(clusterId)}/${key}`;
  }

  /** Every secret of the cluster lives under this path. */
  pathOf(clusterId: string): string {
    return `${this.prefix}/${clusterId}`;
  }
}
