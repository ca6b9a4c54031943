/**
 * The sweep's orphan pass (issue 10 §6): every machine and loose volume
 * carrying this deployment's mark whose cluster the table does not know,
 * or knows as DESTROYED or FAILED, is removed once older than the grace:
 * machines terminated (and what the provider keeps of them dropped),
 * volumes deleted. Each removal is an action in the report, and an event
 * on its cluster when the cluster has a record. What is not this
 * deployment's never gets here: the provider lists only what passes its
 * provenance check, and checks again before it terminates. A FAILED
 * cluster's notebook is never terminated (reaper/kept-work.ts): a running
 * one is stopped, a stopped one is left as it is.
 */
import type { Cluster, SweepReport } from '../../../schemas/types.generated.ts';
import { mapBounded } from '../bounded.ts';
import type { Clock, ClusterStore, LooseVolume, MachineProvider, ManagedMachine } from '../ports.ts';
import { holdsWork, isStoppedWork, stoppedWorkText } from '../reaper/kept-work.ts';
import {
  isPastOrphanGrace,
  type OwnerRecord,
  orphanMachineReason,
  orphanVolumeReason,
} from '../reaper/orphans.ts';
import type { ReaperSettings } from '../reaper/rules.ts';

export interface OrphanDeps {
  store: Pick<ClusterStore, 'get' | 'appendEvent'>;
  provider: MachineProvider;
  clock: Clock;
  reaper: ReaperSettings;
}

export interface OrphanPass {
  removed: number;
  /** FAILED clusters' notebooks stopped instead. */
  stopped: number;
  errors: number;
  actions: SweepReport['actions'];
}

/** What the report names a failure to list the orphans by: no cluster's name has parentheses. */
export const ORPHANS_LABEL = '(orphans)';

/** Records read at once, to learn whose the old machines and volumes are. */
const OWNER_CONCURRENCY = 16;
const STEP = 'reaper';

interface Orphan {
  clusterId: string;
  id: string;
  reason: string;
}

/** `live`: the clusters the sweep read, whose machines are not orphans whatever their age. */
export async function sweepOrphans(
  live: readonly Cluster[],
  deps: OrphanDeps,
  dryRun: boolean,
): Promise<OrphanPass> {
  const pass: OrphanPass = { removed: 0, stopped: 0, errors: 0, actions: [] };
  let machines: ManagedMachine[];
  let volumes: LooseVolume[];
  try {
    [machines, volumes] = await Promise.all([
      deps.provider.findManaged(),
      deps.provider.findLooseVolumes?.() ?? Promise.resolve([]),
    ]);
  } catch (error) {
    pass.errors += 1;
    pass.actions.push({
      cluster: ORPHANS_LABEL,
      action: 'error',
      reason: `could not list them: ${messageOf(error)}`,
    });
    return pass;
  }
  const now = deps.clock.now();
  const liveIds = new Set(live.map((cluster) => cluster.id));
  // Only the old ones may be orphans: a young machine's record is never read.
  const old = [
    ...machines.filter((m) => isPastOrphanGrace(m.launchedAt, now, deps.reaper)),
    ...volumes.filter((v) => isPastOrphanGrace(v.createdAt, now, deps.reaper)),
  ].filter((thing) => !liveIds.has(thing.clusterId));
  const owners = await ownersOf([...new Set(old.map((thing) => thing.clusterId))], deps.store);

  const judge = <T extends { id: string; clusterId: string }>(
    things: readonly T[],
    reasonOf: (thing: T, owner: OwnerRecord) => string | undefined,
  ): Orphan[] =>
    things.flatMap((thing) => {
      // Not read: live, young, or its record could not be read.
      if (!owners.has(thing.clusterId)) return [];
      const owner = owners.get(thing.clusterId);
      if (owner === 'unread') return [];
      const reason = reasonOf(thing, owner);
      return reason ? [{ clusterId: thing.clusterId, id: thing.id, reason }] : [];
    });
  const orphanMachines = judge(machines, (m, owner) => orphanMachineReason(m, owner, now, deps.reaper));
  const orphanVolumes = judge(volumes, (v, owner) => orphanVolumeReason(v, owner, now, deps.reaper));
  const machineById = new Map(machines.map((machine) => [machine.id, machine]));
  const isFailedWork = (orphan: Orphan) => {
    const owner = owners.get(orphan.clusterId);
    return typeof owner === 'object' && owner.state === 'FAILED' && holdsWork(machineById.get(orphan.id)!);
  };
  const toStop = orphanMachines
    .filter(isFailedWork)
    .filter((orphan) => !isStoppedWork(machineById.get(orphan.id)!))
    .map((orphan) => ({ ...orphan, reason: stoppedWorkText(orphan.reason) }));
  const toTerminate = orphanMachines.filter((orphan) => !isFailedWork(orphan));

  const remove = async (
    orphans: Orphan[],
    removal: (ids: string[]) => Promise<void>,
    action: 'remove' | 'pause' = 'remove',
  ) => {
    for (const [clusterId, group] of byCluster(orphans)) {
      const owner = owners.get(clusterId);
      const label = owner && owner !== 'unread' ? owner.name : clusterId;
      if (!dryRun) {
        try {
          await removal(group.map((orphan) => orphan.id));
        } catch (error) {
          pass.errors += 1;
          pass.actions.push({
            cluster: label,
            action: 'error',
            reason: `could not remove its orphans: ${messageOf(error)}`,
          });
          continue;
        }
      }
      for (const orphan of group) {
        if (action === 'remove') pass.removed += 1;
        else pass.stopped += 1;
        pass.actions.push({ cluster: label, action, reason: orphan.reason });
        // The removal is done: an event that cannot be written loses only the note of it.
        if (!dryRun && owner && owner !== 'unread') {
          await deps.store.appendEvent(owner.id, { step: STEP, message: orphan.reason }).catch(() => {});
        }
      }
    }
  };
  await remove(toTerminate, async (ids) => {
    await deps.provider.terminate(ids);
    await deps.provider.forget?.(ids);
  });
  await remove(toStop, (ids) => deps.provider.stop(ids), 'pause');
  const deleteVolumes = deps.provider.deleteVolumes?.bind(deps.provider);
  if (deleteVolumes) await remove(orphanVolumes, deleteVolumes);
  return pass;
}

/**
 * Each cluster's record, undefined when the table has none; 'unread' when
 * it could not be read, or there is no id to read (then nothing of it is
 * touched).
 */
async function ownersOf(
  clusterIds: readonly string[],
  store: Pick<ClusterStore, 'get'>,
): Promise<Map<string, OwnerRecord | 'unread'>> {
  const owners = await mapBounded(clusterIds, OWNER_CONCURRENCY, async (clusterId) => {
    // A machine that names no cluster is not one bilbo launched: not its to judge.
    if (clusterId === '') return 'unread' as const;
    return store.get(clusterId).then(
      (cluster): OwnerRecord =>
        cluster && { id: cluster.id, name: cluster.name, state: cluster.state, updatedAt: cluster.updatedAt },
      () => 'unread' as const,
    );
  });
  return new Map(clusterIds.map((clusterId, at) => [clusterId, owners[at]]));
}

function byCluster(orphans: readonly Orphan[]): Map<string, Orphan[]> {
  const groups = new Map<string, Orphan[]>();
  for (const orphan of orphans)
    groups.set(orphan.clusterId, [...(groups.get(orphan.clusterId) ?? []), orphan]);
  return groups;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
