/**
 * A READY cluster's health: what its provider says of its machines now,
 * and what the last look at its services (from inside the cluster's
 * network) found. Health is a status beside the lifecycle state, not a
 * state: no transition depends on it, and it changes no state.
 */
import type { Cluster, ClusterHealth, ClusterInstance } from '../../schemas/types.generated.ts';
import type { Machine } from './ports.ts';

/** How long a look is trusted: a read within it answers the record as it is. */
export const HEALTH_CACHE_MS = 30_000;

/** What one look at a cluster's services found (its kind's readiness checks, judged). */
export interface ServicesLook {
  at: Date;
  workersJoined: number;
  /** What is missing, in the kind's words; undefined when nothing is. */
  missing?: string;
}

/** Whether a look at the cluster is due: a READY cluster whose last look is older than the cache. */
export function isHealthDue(
  cluster: Cluster,
  options: { now: Date; cacheMs: number; withServices: boolean },
): boolean {
  if (cluster.state !== 'READY') return false;
  const last = options.withServices ? cluster.health?.servicesCheckedAt : cluster.health?.checkedAt;
  return last === undefined || options.now.getTime() - Date.parse(last) >= options.cacheMs;
}

/**
 * The health from the machines described now (one per recorded instance)
 * and the services' look: this one when there was one, else the last one
 * recorded. Every instance not running is lost, with what its provider
 * says of it; the services' missing part comes after.
 */
export function judgeHealth(
  cluster: Cluster,
  machines: readonly Machine[],
  services: ServicesLook | undefined,
  now: Date,
): ClusterHealth {
  const described = new Map(machines.map((machine) => [machine.id, machine]));
  const instances = cluster.instances ?? [];
  const lost = instances.flatMap((instance) => {
    const machine = described.get(instance.id);
    return machine?.state === 'running' ? [] : [lostInstance(instance, machine)];
  });
  const servicesCheckedAt = services?.at.toISOString() ?? cluster.health?.servicesCheckedAt;
  const servicesMissing = services ? services.missing : cluster.health?.servicesMissing;
  const problems = [...lost, ...(servicesMissing ? [servicesMissing] : [])];
  return {
    status: problems.length > 0 ? 'degraded' : 'ok',
    ...(problems.length > 0 ? { reason: problems.join('; ') } : {}),
    checkedAt: now.toISOString(),
    instancesExpected: instances.length,
    instancesRunning: instances.length - lost.length,
    ...(servicesCheckedAt ? { servicesCheckedAt } : {}),
    ...(servicesMissing ? { servicesMissing } : {}),
  };
}

/** `worker 1 (i-0ab…) is terminated: exited with code 1`. */
export function lostInstance(instance: ClusterInstance, machine: Machine | undefined): string {
  const which = instance.index === undefined ? instance.role : `${instance.role} ${instance.index}`;
  if (!machine) return `${which} (${instance.id}) was not described by its provider`;
  const reason = machine.stateReason ? `: ${machine.stateReason}` : '';
  return `${which} (${instance.id}) is ${machine.state}${reason}`;
}

/**
 * The event a new health is worth, or none: when the status changes, or a
 * degraded cluster's reason does (another instance lost). An unchanged
 * health, however often looked at, is no event.
 */
export function healthEvent(before: ClusterHealth | undefined, after: ClusterHealth): string | undefined {
  const was = before?.status ?? 'ok';
  if (after.status === 'degraded') {
    return was === 'degraded' && before?.reason === after.reason ? undefined : `degraded: ${after.reason}`;
  }
  if (was === 'ok') return undefined;
  return `healthy again: ${after.instancesRunning}/${after.instancesExpected} instances running`;
}

/** The recorded instances with the states described now; undefined when none changed. */
export function instancesAsDescribed(
  instances: readonly ClusterInstance[],
  machines: readonly Machine[],
): ClusterInstance[] | undefined {
  const described = new Map(machines.map((machine) => [machine.id, machine.state]));
  let changed = false;
  const updated = instances.map((instance) => {
    const state = described.get(instance.id);
    if (state === undefined || state === instance.state) return instance;
    changed = true;
    return { ...instance, state };
  });
  return changed ? updated : undefined;
}
