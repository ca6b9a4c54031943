/**
 * What the pause and resume steps share: asking every recorded machine to
 * stop or start, and recording FAILED when a compensation finds a machine
 * gone or the provider refusing the move back.
 */
import type { Cluster, ClusterState } from '../../../schemas/types.generated.ts';
import type { ClusterStore, Machine, MachineProvider } from '../ports.ts';
import { loadCluster } from './load-cluster.ts';

export type MachineMove = 'stop' | 'start';

const ING: Record<MachineMove, string> = { stop: 'stopping', start: 'starting' };

/** Asks for every recorded machine of the cluster to stop or start, with an event. Idempotent. */
export async function moveEveryMachine(
  move: MachineMove,
  clusterId: string,
  deps: { store: ClusterStore; provider: Pick<MachineProvider, MachineMove> },
): Promise<number> {
  const cluster = await loadCluster(deps.store, clusterId);
  const ids = (cluster.instances ?? []).map((instance) => instance.id);
  await deps.store.appendEvent(cluster.id, {
    step: `${move}-machines`,
    message: `${ING[move]} ${ids.length} instance${ids.length === 1 ? '' : 's'}`,
  });
  await deps.provider[move](ids);
  return ids.length;
}

/** The provider's refusal of a move, in words; undefined when it went through. */
export function refusalOf(moving: Promise<void>): Promise<string | undefined> {
  return moving.then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

/**
 * A compensation that cannot put the machines back: some are gone, or the
 * provider refused. FAILED with the failure and why; destroying the
 * cluster removes the rest.
 */
export async function recordCannotMoveBack(
  cluster: Cluster,
  from: ClusterState,
  failure: { step: string; message: string; error?: string },
  found: { lost: readonly Machine[]; refused?: string; refusedWhat: string },
  store: ClusterStore,
): Promise<void> {
  const { lost, refused, refusedWhat } = found;
  const why =
    lost.length > 0
      ? `${lost.map((machine) => `${machine.role} ${machine.id}`).join(', ')} ${lost.length === 1 ? 'is' : 'are'} terminated`
      : `${refusedWhat} (${refused})`;
  const action = from === 'PAUSING' ? 'pause' : 'resume';
  await store.transition(cluster.id, {
    name: cluster.name,
    from: [from],
    to: 'FAILED',
    changes: { failure: { ...failure, message: `${failure.message}; ${why}` } },
    event: {
      step: failure.step,
      message: `${action} failed at ${failure.step}: ${failure.message}; ${why}: destroy the cluster to remove the rest`,
    },
  });
}
