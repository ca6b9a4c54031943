/**
 * The orphan rule, pure: a machine or a loose volume carrying the
 * deployment's mark whose cluster the table does not know, or knows as
 * DESTROYED or FAILED, is an orphan once it is older than the grace. A
 * create in flight is never touched: its record is live, and its machines
 * are young.
 */
import type { Cluster } from '../../../schemas/types.generated.ts';
import { isEnded } from '../lifecycle.ts';
import type { LooseVolume, ManagedMachine } from '../ports.ts';
import { durationText, type ReaperSettings } from './rules.ts';

/** What the table says of the cluster a machine or volume was made for; undefined: nothing. */
export type OwnerRecord = Pick<Cluster, 'id' | 'name' | 'state'> | undefined;

/** Old enough to be an orphan: past the grace since `bornAt` (an unreadable time never is). */
export function isPastOrphanGrace(bornAt: string, now: Date, settings: ReaperSettings): boolean {
  return now.getTime() - Date.parse(bornAt) >= settings.orphanGraceSeconds * 1000;
}

/** Why the machine is an orphan, or undefined while it is not (its cluster lives, or it is young). */
export function orphanMachineReason(
  machine: ManagedMachine,
  owner: OwnerRecord,
  now: Date,
  settings: ReaperSettings,
): string | undefined {
  if (!isOrphaned(owner) || !isPastOrphanGrace(machine.launchedAt, now, settings)) return undefined;
  const age = durationText(now.getTime() - Date.parse(machine.launchedAt));
  return `reaped: orphan ${machine.role} ${machine.id} (${machine.state}, launched ${age} ago): ${whose(machine.clusterId, owner)}`;
}

/** Why the loose volume is an orphan, or undefined while it is not. */
export function orphanVolumeReason(
  volume: LooseVolume,
  owner: OwnerRecord,
  now: Date,
  settings: ReaperSettings,
): string | undefined {
  if (!isOrphaned(owner) || !isPastOrphanGrace(volume.createdAt, now, settings)) return undefined;
  const age = durationText(now.getTime() - Date.parse(volume.createdAt));
  return `reaped: orphan volume ${volume.id} (attached to nothing, created ${age} ago): ${whose(volume.clusterId, owner)}`;
}

function isOrphaned(owner: OwnerRecord): boolean {
  return owner === undefined || isEnded(owner.state);
}

function whose(clusterId: string, owner: OwnerRecord): string {
  return owner
    ? `its cluster is ${owner.state}`
    : `no cluster record has its cluster id ${clusterId || '(none)'}`;
}
