import { ProviderBusyError, ProvisioningError } from '../errors.ts';
import type { Clock, ClusterStore, MachineProvider, SecretStore } from '../ports.ts';

export interface CleanupDeps {
  store: ClusterStore;
  provider: MachineProvider;
  secrets: SecretStore;
  clock: Clock;
}

/** How long after a create a machine missing from the provider's listings may just be slow to appear. */
const UNSEEN_GRACE_MS = 10 * 60_000;

/**
 * Asks for every machine carrying the cluster's tag — the recorded ones
 * and any the record never learnt about — to be terminated. Throws
 * ProviderBusyError while a young cluster's machine is not listed by the
 * provider yet, so the workflow's Retry asks again later.
 */
export async function terminateAll(clusterId: string, deps: CleanupDeps): Promise<string[]> {
  const cluster = await deps.store.get(clusterId);
  const tagged = await deps.provider.findByCluster(clusterId);
  const ids = [...new Set([...(cluster?.instances ?? []).map((i) => i.id), ...tagged.map((m) => m.id)])];
  if (ids.length > 0) await deps.provider.terminate(ids);

  // A young cluster's machine the provider does not list yet may still be starting: look again later.
  const young =
    cluster !== undefined && deps.clock.now().getTime() - Date.parse(cluster.createdAt) < UNSEEN_GRACE_MS;
  const unseen = young && ids.length > 0 ? (await deps.provider.describe(ids)).filter((m) => m.unseen) : [];
  if (unseen.length > 0) {
    throw new ProviderBusyError(`not listed by the provider yet: ${unseen.map((m) => m.id).join(', ')}`);
  }
  return ids;
}

/**
 * terminateAll, then checks that none is left and removes the cluster's
 * secrets. Throws when some machine survives, so the workflow's Retry
 * tries again.
 */
export async function terminateEverything(clusterId: string, deps: CleanupDeps): Promise<string[]> {
  const ids = await terminateAll(clusterId, deps);
  const survivors = await deps.provider.findByCluster(clusterId);
  if (survivors.length > 0) {
    throw new ProvisioningError(
      `${survivors.length} instance(s) still running: ${survivors.map((m) => m.id).join(', ')}`,
    );
  }
  await deps.secrets.removeAll(clusterId);
  return ids;
}
