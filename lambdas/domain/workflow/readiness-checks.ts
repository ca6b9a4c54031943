import type { Cluster } from '../../../schemas/types.generated.ts';
import { kindOf } from '../kinds/index.ts';
import type { Network } from '../kinds/kind.ts';
import type { ProbeRequest, SecretReader } from '../ports.ts';

/**
 * What the probe GETs to judge a cluster: its kind's checks, with the
 * secrets they present (a notebook's token) read now from the secret store.
 * A secret that cannot be read is left out: the check then fails as a
 * wrong token would, and the deadline decides.
 */
export async function readinessChecksOf(
  cluster: Cluster,
  network: Network,
  secrets: SecretReader,
): Promise<Record<string, ProbeRequest>> {
  return kindOf(cluster.plan.kind).readinessChecks(cluster, network, await probeSecretsOf(cluster, secrets));
}

/** The secrets the cluster's probes present (its kind's readinessSecrets), by key; those unreadable left out. */
export async function probeSecretsOf(
  cluster: Cluster,
  secrets: SecretReader,
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const key of kindOf(cluster.plan.kind).readinessSecrets(cluster)) {
    const value = await secrets.read(secrets.nameOf(cluster.id, key)).catch(() => undefined);
    if (value !== undefined) values[key] = value;
  }
  return values;
}
