/**
 * The orphan rule, pure: a machine or a loose volume carrying the
 * deployment's mark whose cluster the table does not know, or knows as
 * DESTROYED or FAILED, is an orphan once it is older than the grace and,
 * for an ended cluster, has been ended that long (what a rollback or a
 * destroy is still terminating is theirs, and a FAILED cluster's stopped
 * machines stay that long). A create in flight is never touched: its
 * record is live, and its machines are young.
 */
import type { Cluster } from '../../../schemas/types.generated.ts';
import { isEnded } from '../lifecycle.ts';
import type { LooseVolume, ManagedMachine } from '../ports.ts';
import { durationText, type ReaperSettings } from './rules.ts';

/** What the table says of the cluster a machine or volume was made for; undefined: nothing. */
export type OwnerRecord = Pick<Cluster, 'id' | 'name' | 'state' | 'updatedAt'> | undefined;

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
  if (!isOrphaned(owner, machine.launchedAt, now, settings)) return undefined;
  const age = durationText(now.getTime() - Date.parse(machine.launchedAt));
  const what = `orphan ${machine.role} ${machine.id} (${machine.state}, launched ${age} ago)`;
  return `reaped: ${what}: ${whose(machine.clusterId, owner, now)}`;
}

/** Why the loose volume is an orphan, or undefined while it is not. */
export function orphanVolumeReason(
  volume: LooseVolume,
  owner: OwnerRecord,
  now: Date,
  settings: ReaperSettings,
): string | undefined {
  if (!isOrphaned(owner, volume.createdAt, now, settings)) return undefined;
  const age = durationText(now.getTime() - Date.parse(volume.createdAt));
  const what = `orphan volume ${volume.id} (attached to nothing, created ${age} ago)`;
  return `reaped: ${what}: ${whose(volume.clusterId, owner, now)}`;
}

function isOrphaned(owner: OwnerRecord, bornAt: string, now: Date, settings: ReaperSettings): boolean {
  if (!isPastOrphanGrace(bornAt, now, settings)) return false;
  if (owner === undefined) return true;
  return isEnded(owner.state) && isPastOrphanGrace(owner.updatedAt, now, settings);
}

function whose(clusterId: string, owner: OwnerRecord, now: Date): string {
  if (!owner) return `no cluster record has its cluster id ${clusterId}`;
  const ended = durationText(now.getTime() - Date.parse(owner.updatedAt));
  return `its cluster has been ${owner.state} for ${ended}`;
}
