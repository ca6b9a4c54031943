import type { SecretKey, SecretStore } from '../../domain/ports.ts';
import { SecretPaths } from '../ssm/secret-names.ts';

/**
 * Secrets for local clusters, whose processes read nothing at boot: kept in
 * memory for the life of the control plane, under the same names as on AWS.
 */
export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, string>();
  private readonly paths = new SecretPaths();

  nameOf(clusterId: string, key: SecretKey): string {
    return this.paths.nameOf(clusterId, key);
  }

  async put(clusterId: string, key: SecretKey, value: string): Promise<string> {
    const name = this.nameOf(clusterId, key);
    this.values.set(name, value);
    return name;
  }

  async read(name: string): Promise<string | undefined> {
    return this.values.get(name);
  }

  async removeAll(clusterId: string): Promise<void> {
    const prefix = `${this.paths.pathOf(clusterId)}/`;
    for (const name of [...this.values.keys()]) if (name.startsWith(prefix)) this.values.delete(name);
  }

  /** For tests: how many secrets are stored. */
  size(): number {
    return this.values.size;
  }
}
