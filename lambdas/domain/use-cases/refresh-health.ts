/**
 * Health after READY, refreshed when someone looks (desc, ls) and at each
 * sweep of the reaper, never by a loop of its own: a READY cluster whose
 * last look is older than the cache is looked at again, and the record
 * says what was seen (see lambdas/domain/health.ts for the rules).
 */
import type { Cluster } from '../../../schemas/types.generated.ts';
import { mapBounded } from '../bounded.ts';
import { ConcurrentUpdateError } from '../errors.ts';
import {
  HEALTH_CACHE_MS,
  healthEvent,
  instancesAsDescribed,
  isHealthDue,
  judgeHealth,
  type ServicesLook,
} from '../health.ts';
import { kindOf } from '../kinds/index.ts';
import type { Network } from '../kinds/kind.ts';
import { roleInstancesOf } from '../machines.ts';
import type {
  Clock,
  ClusterStore,
  Machine,
  MachineProvider,
  ProbeRequest,
  ReadinessProbe,
  RecordChanges,
  SecretReader,
} from '../ports.ts';
import { probeNetworkOf } from '../workflow/probe-ready.ts';
import { readinessChecksOf } from '../workflow/readiness-checks.ts';

/** Where a function can look at the clusters' services from, and with what. */
export interface ServicesProbe {
  probe: ReadinessProbe;
  /** Where it looks from: inside the cluster's network (private addresses), or outside, as people do. */
  network: Network;
  /** Where the secrets the checks present (a notebook's token) are read. */
  secrets: SecretReader;
}

export interface HealthDeps {
  store: ClusterStore;
  provider: Pick<MachineProvider, 'describe'>;
  clock: Clock;
  /**
   * Present where the services can be reached (the local plane, over
   * loopback; the reaper, in the VPC). Absent (the API on AWS, outside the
   * VPC), only the machines are looked at, and the services' part of the
   * health is the last look's.
   */
  servicesProbe?: ServicesProbe;
  /** @default HEALTH_CACHE_MS */
  healthCacheMs?: number;
}

/** Clusters looked at at once (each a probe and a write), for a read (desc, ls). */
const HEALTH_CONCURRENCY = 4;

export interface RefreshOptions {
  /**
   * Clusters looked at at once: the reaper's sweep, which looks at every
   * READY cluster, raises it to its own.
   * @default HEALTH_CONCURRENCY
   */
  concurrency?: number;
}

/** The cluster with its health refreshed when it was due; otherwise as it is. */
export async function refreshHealth(cluster: Cluster, deps: HealthDeps): Promise<Cluster> {
  const [refreshed] = await refreshHealthOfAll([cluster], deps);
  return refreshed ?? cluster;
}

/**
 * Each cluster with its health refreshed when due, in the same order. The
 * machines of all of them are described in one batched call; the services
 * and the writes, a few clusters at a time. Reading must not fail because
 * a look did: when the provider cannot describe, the records stay as they
 * are. A cluster that moved on meanwhile (a workflow wrote it) is left
 * alone, and answered as it is now.
 */
export async function refreshHealthOfAll(
  clusters: readonly Cluster[],
  deps: HealthDeps,
  options: RefreshOptions = {},
): Promise<Cluster[]> {
  const now = deps.clock.now();
  const dueWhen = {
    now,
    cacheMs: deps.healthCacheMs ?? HEALTH_CACHE_MS,
    withServices: deps.servicesProbe !== undefined,
  };
  const due = clusters.filter((cluster) => isHealthDue(cluster, dueWhen));
  if (due.length === 0) return [...clusters];

  let machines: Machine[];
  try {
    machines = await deps.provider.describe(
      due.flatMap((cluster) => (cluster.instances ?? []).map((i) => i.id)),
    );
  } catch {
    return [...clusters];
  }
  const refreshed = new Map(
    (
      await mapBounded(due, options.concurrency ?? HEALTH_CONCURRENCY, (cluster) =>
        lookAgain(cluster, machines, deps),
      )
    ).map((cluster) => [cluster.id, cluster]),
  );
  return clusters.map((cluster) => refreshed.get(cluster.id) ?? cluster);
}

async function lookAgain(cluster: Cluster, machines: readonly Machine[], deps: HealthDeps): Promise<Cluster> {
  const ids = new Set((cluster.instances ?? []).map((instance) => instance.id));
  const own = machines.filter((machine) => ids.has(machine.id));
  const services = deps.servicesProbe
    ? await lookAtServices(cluster, deps.servicesProbe, deps.clock)
    : undefined;
  const now = deps.clock.now();
  const health = judgeHealth(cluster, own, services, now);
  const instances = instancesAsDescribed(cluster.instances ?? [], own);
  const changes: RecordChanges = {
    health,
    ...(instances ? { roleInstances: roleInstancesOf(instances) } : {}),
    ...(services && services.workersJoined !== cluster.workersJoined
      ? { workersJoined: services.workersJoined }
      : {}),
  };
  const message = healthEvent(cluster.health, health);
  try {
    await deps.store.update(cluster.id, {
      changes,
      inStates: ['READY'],
      expectedVersion: cluster.version,
      ...(message ? { event: { step: 'health', message } } : {}),
    });
  } catch (error) {
    if (!(error instanceof ConcurrentUpdateError)) throw error;
    return (await deps.store.get(cluster.id)) ?? cluster;
  }
  const { roleInstances: _, ...fields } = changes;
  return {
    ...cluster,
    ...fields,
    ...(instances ? { instances } : {}),
    version: cluster.version + 1,
    updatedAt: now.toISOString(),
  };
}

/** One look with the cluster's kind's readiness checks, judged by the kind; none when it has nothing to look at. */
async function lookAtServices(
  cluster: Cluster,
  services: ServicesProbe,
  clock: Clock,
): Promise<ServicesLook | undefined> {
  const kind = kindOf(cluster.plan.kind);
  let checks: Record<string, ProbeRequest>;
  try {
    checks = await readinessChecksOf(cluster, probeNetworkOf(services, cluster.plan), services.secrets);
  } catch {
    return undefined;
  }
  const verdict = kind.judgeReadiness(cluster, await services.probe.look(checks));
  return {
    at: clock.now(),
    workersJoined: verdict.workersJoined,
    ...(verdict.ready ? {} : { missing: verdict.missing ?? 'the services did not answer' }),
  };
}
