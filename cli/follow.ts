import type { Cluster, ClusterEvent, ClusterState } from '../schemas/types.generated.ts';
import type { BilboApi } from './api/client.ts';
import { CancelledError } from './errors.ts';
import type { Factory } from './factory.ts';

export const FOLLOW_INTERVAL_MS = 500;

export interface FollowOptions {
  /** The state the command waits for; FAILED and DESTROYED also end the wait. */
  until: ClusterState;
  /** Only events after this id are shown. */
  after?: string;
  onEvent(event: ClusterEvent): void;
  /** The CancelledError message when the user presses Ctrl-C. */
  interruptedMessage: string;
  intervalMs?: number;
}

const ENDS: readonly ClusterState[] = ['FAILED', 'DESTROYED'];

/**
 * Shows a cluster's new events every interval until it reaches `until` (or
 * ends otherwise), and returns the record. Ctrl-C stops following, not the
 * cluster's workflow: it throws CancelledError.
 */
export async function followCluster(
  f: Pick<Factory, 'sleep' | 'onInterrupt'>,
  api: BilboApi,
  name: string,
  options: FollowOptions,
): Promise<Cluster> {
  const abort = new AbortController();
  const dispose = f.onInterrupt(() => abort.abort());
  const interrupted = () => new CancelledError(options.interruptedMessage);
  const guard = <T>(promise: Promise<T>) => abortable(promise, abort.signal, interrupted);
  let after = options.after;
  const showNewEvents = async () => {
    for (const event of await guard(api.events(name, after === undefined ? {} : { after }))) {
      options.onEvent(event);
      after = event.id;
    }
  };

  try {
    for (;;) {
      await showNewEvents();
      const cluster = await guard(api.getCluster(name));
      if (cluster.state === options.until || ENDS.includes(cluster.state)) {
        // The last transition writes its event with the state: show it too.
        await showNewEvents();
        return cluster;
      }
      await guard(f.sleep(options.intervalMs ?? FOLLOW_INTERVAL_MS, abort.signal));
    }
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

function abortable<T>(promise: Promise<T>, signal: AbortSignal, interrupted: () => Error): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(interrupted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? interrupted() : error);
      },
    );
  });
}
