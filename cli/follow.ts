import type { Cluster, ClusterEvent, ClusterState } from '../schemas/types.generated.ts';
import { abortable } from './abortable.ts';
import type { BilboApi } from './api/client.ts';
import { CancelledError } from './errors.ts';
import type { Factory } from './factory.ts';

/** How long each events request waits for the next event (the API's longest: schemas/api/common.schema.json). */
export const FOLLOW_WAIT_SECONDS = 20;
/** The least time between two events requests that found nothing, should an API answer before its wait. */
export const MIN_POLL_INTERVAL_MS = 1000;

export interface FollowOptions {
  /** The state (or states) the command waits for; FAILED and DESTROYED also end the wait. */
  until: ClusterState | readonly ClusterState[];
  /** Only events after this id are shown. */
  after?: string;
  onEvent(event: ClusterEvent): void;
  /** The CancelledError message when the user presses Ctrl-C. */
  interruptedMessage: string;
}

const ENDS: readonly ClusterState[] = ['FAILED', 'DESTROYED'];

/**
 * Shows a cluster's new events as they come until it reaches `until` (or
 * ends otherwise), and returns the record. The events are long-polled: an
 * idle follower makes one request per FOLLOW_WAIT_SECONDS, and the record
 * is read again only when an event says the state changed. Ctrl-C stops
 * following, not the cluster's workflow: it throws CancelledError.
 */
export async function followCluster(
  f: Pick<Factory, 'sleep' | 'onInterrupt' | 'now'>,
  api: BilboApi,
  name: string,
  options: FollowOptions,
): Promise<Cluster> {
  const abort = new AbortController();
  const dispose = f.onInterrupt(() => abort.abort());
  const interrupted = () => new CancelledError(options.interruptedMessage);
  const guard = <T>(promise: Promise<T>) => abortable(promise, abort.signal, interrupted);
  const until: readonly ClusterState[] = typeof options.until === 'string' ? [options.until] : options.until;
  const isDone = (cluster: Cluster) => until.includes(cluster.state) || ENDS.includes(cluster.state);
  let after = options.after;
  const showNewEvents = async (waitSeconds: number) => {
    const events = await guard(api.events(name, { ...(after === undefined ? {} : { after }), waitSeconds }));
    for (const event of events) {
      options.onEvent(event);
      after = event.id;
    }
    return events;
  };

  try {
    let cluster = await guard(api.getCluster(name));
    while (!isDone(cluster)) {
      const asked = f.now();
      const events = await showNewEvents(FOLLOW_WAIT_SECONDS);
      if (events.some((event) => event.state !== undefined)) {
        cluster = await guard(api.getCluster(name));
      } else if (events.length === 0) {
        const early = MIN_POLL_INTERVAL_MS - (f.now() - asked);
        if (early > 0) await guard(f.sleep(early, abort.signal));
      }
    }
    // The last transition wrote its event with the state: show it, and any before it.
    await showNewEvents(0);
    return cluster;
  } finally {
    dispose();
  }
}

/** A cluster's whole event history, oldest first, paging with `after` until nothing new comes. */
export async function allEvents(api: BilboApi, name: string): Promise<ClusterEvent[]> {
  const all: ClusterEvent[] = [];
  let after: string | undefined;
  for (;;) {
    const events = await api.events(name, after === undefined ? {} : { after });
    const fresh = after === undefined ? events : events.filter((e) => e.id > after!);
    if (fresh.length === 0) return all;
    all.push(...fresh);
    after = fresh.at(-1)!.id;
  }
}

/** The id of the cluster's newest event, so following can skip the history. */
export async function lastEventId(api: BilboApi, name: string): Promise<string | undefined> {
  return (await allEvents(api, name)).at(-1)?.id;
}
