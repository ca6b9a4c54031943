/**
 * Drift, pure: what the provider says now of a live record's machines. A
 * READY or PAUSED record whose machines are all gone (terminated, or
 * unknown to the provider) has nothing left to run: it is FAILED. One with
 * only some gone is degraded (READY's health refresh says so; a PAUSED
 * one's health is written by the sweep).
 */
import type { Cluster, ClusterHealth } from '../../../schemas/types.generated.ts';
import { lostInstance } from '../health.ts';
import type { Machine } from '../ports.ts';

/** What the sweep knows of each recorded machine's state now, by id; undefined when it could not ask. */
export type MachinesSeen = ReadonlyMap<string, Machine> | undefined;

export type Drift =
  | { kind: 'none' }
  /** Every recorded machine is gone: why, naming each. */
  | { kind: 'gone'; reason: string }
  /** Some are: each one, in health's words. */
  | { kind: 'partly'; lost: string[] };

export function driftOf(cluster: Cluster, seen: MachinesSeen): Drift {
  const instances = cluster.instances ?? [];
  if (!seen || instances.length === 0) return { kind: 'none' };
  const machines = instances.map((instance) => ({ instance, machine: seen.get(instance.id) }));
  // A machine the provider did not answer for cannot be told gone.
  if (machines.some(({ machine }) => machine === undefined)) return { kind: 'none' };
  const lost = machines
    .filter(({ machine }) => machine?.state === 'terminated')
    .map(({ instance, machine }) => lostInstance(instance, machine));
  if (lost.length === 0) return { kind: 'none' };
  if (lost.length < instances.length) return { kind: 'partly', lost };
  const all =
    instances.length === 1
      ? 'its only instance is gone'
      : `all ${instances.length} of its instances are gone`;
  return { kind: 'gone', reason: `reaped: ${all} (${lost.join('; ')})` };
}

/** None of the cluster's recorded machines runs (each gone or stopped); false when that cannot be told. */
export function noneRunning(cluster: Cluster, seen: MachinesSeen): boolean {
  const instances = cluster.instances ?? [];
  if (!seen || instances.length === 0) return false;
  return instances.every((instance) => {
    const state = seen.get(instance.id)?.state;
    return state === 'terminated' || state === 'stopped' || state === 'stopping';
  });
}

/** The degraded health of a PAUSED cluster some of whose machines are gone. */
export function pausedDriftHealth(cluster: Cluster, lost: readonly string[], now: Date): ClusterHealth {
  return {
    status: 'degraded',
    reason: lost.join('; '),
    checkedAt: now.toISOString(),
    instancesExpected: cluster.instances?.length ?? 0,
    instancesRunning: 0,
  };
}
