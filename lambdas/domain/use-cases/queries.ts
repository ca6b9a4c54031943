import type { Cluster, ClusterEvent } from '../../../schemas/types.generated.ts';
import { identityOf } from '../access.ts';
import type { Clock, ClusterStore } from '../ports.ts';
import { findCluster } from './find-cluster.ts';
import { type HealthDeps, refreshHealth, refreshHealthOfAll } from './refresh-health.ts';

/** What a read needs: the store, and the machines (and services, where reachable) for the health of READY clusters. */
export type QueryDeps = HealthDeps;

/** A cluster as `viewer` (an IAM principal) may see it, its health looked at again when due. */
export async function describeCluster(name: string, viewer: string, deps: QueryDeps): Promise<Cluster> {
  return asSeenBy(await refreshHealth(await findCluster(name, deps.store), deps), viewer);
}

export async function listClusters(
  includeEnded: boolean,
  viewer: string,
  deps: QueryDeps,
): Promise<Cluster[]> {
  const clusters = await refreshHealthOfAll(await deps.store.list({ includeEnded }), deps);
  return clusters.map((cluster) => asSeenBy(cluster, viewer));
}

/**
 * The profile's `webbrowser` is a program the CLI runs on the caller's
 * machine: only its owner's. Anyone else would run a program a teammate
 * chose, so they are not told it and use their own $BROWSER.
 */
function asSeenBy(cluster: Cluster, viewer: string): Cluster {
  if (cluster.plan.webbrowser === undefined || identityOf(viewer) === identityOf(cluster.owner)) {
    return cluster;
  }
  const { webbrowser: _, ...plan } = cluster.plan;
  return { ...cluster, plan };
}

export interface EventWaitDeps {
  store: ClusterStore;
  clock: Clock;
  /** @default a timer */
  sleep?: (ms: number) => Promise<void>;
}

/** Between two queries while nothing comes: quick at first, then at most once a second. */
const POLL_STEPS_MS = [100, 200, 400, 800, 1000] as const;

/**
 * Long polling: the events after `after`, as soon as there is one, waiting
 * up to `waitMs` while there is none (then none). A store that signals its
 * writes (nextWrite) wakes the wait at once; others are polled, ever less
 * often, never past the wait.
 */
export async function waitForClusterEvents(
  name: string,
  after: string | undefined,
  waitMs: number,
  deps: EventWaitDeps,
): Promise<ClusterEvent[]> {
  const { store, clock } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const cluster = await findCluster(name, store);
  const query = () => store.events(cluster.id, after === undefined ? {} : { after });
  const deadline = clock.now().getTime() + waitMs;
  for (let poll = 0; ; poll++) {
    // Listen before querying: a write between the query and the wait still wakes it.
    const listening = new AbortController();
    const written = store.nextWrite?.(cluster.id, listening.signal);
    try {
      const events = await query();
      const left = deadline - clock.now().getTime();
      if (events.length > 0 || left <= 0) return events;
      const step = POLL_STEPS_MS[Math.min(poll, POLL_STEPS_MS.length - 1)]!;
      await Promise.race([sleep(Math.min(step, left)), ...(written ? [written] : [])]);
    } finally {
      listening.abort();
    }
  }
}
