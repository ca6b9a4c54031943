/**
 * A ClusterStore that tells waiting readers about each write it makes, so a
 * long-polling events request answers as soon as the event exists instead
 * of at its next poll. For a store whose writers all live in this process
 * (local mode: the API and the workflow steps share one store object).
 */
import type { Cluster, ClusterEvent } from '../../schemas/types.generated.ts';
import type { ClusterStore, NewEvent, TransitionRequest, UpdateRequest } from '../domain/ports.ts';

export function notifyingStore(store: ClusterStore): ClusterStore {
  const waiters = new Map<string, Set<() => void>>();
  const wake = (id: string) => {
    const waiting = waiters.get(id);
    waiters.delete(id);
    for (const resolve of waiting ?? []) resolve();
  };
  const after = async <T>(id: string, write: Promise<T>): Promise<T> => {
    try {
      return await write;
    } finally {
      // A failed conditional write changed nothing, but waking a reader for nothing costs one query.
      wake(id);
    }
  };

  return {
    create: (cluster: Cluster, event: NewEvent) => after(cluster.id, store.create(cluster, event)),
    get: (id) => store.get(id),
    findByName: (name) => store.findByName(name),
    list: (options) => store.list(options),
    transition: (id: string, request: TransitionRequest) => after(id, store.transition(id, request)),
    update: (id: string, request: UpdateRequest) => after(id, store.update(id, request)),
    appendEvent: (id: string, event: NewEvent): Promise<ClusterEvent> =>
      after(id, store.appendEvent(id, event)),
    events: (id, options) => store.events(id, options),
    nextWrite(id, signal) {
      return new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const waiting = waiters.get(id) ?? new Set<() => void>();
        waiters.set(id, waiting);
        const done = () => {
          signal.removeEventListener('abort', done);
          waiting.delete(done);
          if (waiting.size === 0 && waiters.get(id) === waiting) waiters.delete(id);
          resolve();
        };
        waiting.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    },
  };
}
