/**
 * Cluster and event records ⇄ table items. The storage attributes (keys,
 * `kind`, TTL) are added here and stripped here, so the objects the store
 * returns match the API schemas exactly.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, ClusterEvent, ClusterState } from '../../../schemas/types.generated.ts';
import type { TransitionRequest } from '../../domain/ports.ts';
import {
  CLUSTER_KIND,
  clusterKey,
  EVENT_RETENTION_DAYS,
  eventKey,
  STORAGE_ATTRIBUTES,
  TTL_ATTRIBUTE,
} from './table-design.ts';

export type Item = Record<string, unknown>;

const EVENT_FIELDS = ['id', 'clusterId', 'at', 'step', 'message', 'state'] as const;
/** Fields a change may never touch: identity, and what the store itself manages. */
const FIXED_FIELDS = new Set(['id', 'name', 'owner', 'state', 'version', 'createdAt', 'updatedAt']);

export function toClusterItem(cluster: Cluster): Item {
  return { ...withoutUndefined(cluster), ...clusterKey(cluster.id), kind: CLUSTER_KIND };
}

export function fromClusterItem(item: Item): Cluster {
  const cluster: Item = { ...item };
  for (const attribute of STORAGE_ATTRIBUTES) delete cluster[attribute];
  return cluster as unknown as Cluster;
}

export function toEventItem(event: ClusterEvent): Item {
  const expiresAt = Math.floor(Date.parse(event.at) / 1000) + EVENT_RETENTION_DAYS * 24 * 3600;
  return { ...withoutUndefined(event), ...eventKey(event.clusterId, event.id), [TTL_ATTRIBUTE]: expiresAt };
}

export function fromEventItem(item: Item): ClusterEvent {
  const event: Item = {};
  for (const field of EVENT_FIELDS) if (item[field] !== undefined) event[field] = item[field];
  return event as unknown as ClusterEvent;
}

export interface RecordChange {
  /** The new state, and the states it may be entered from; both absent for a plain update. */
  to?: ClusterState;
  from?: readonly ClusterState[];
  /** A field whose value is `undefined` is removed from the record. */
  changes: TransitionRequest['changes'];
}

/**
 * The conditional UpdateItem that moves the record from `current` (exactly
 * that version) to `next`, and `next` itself, so no read is needed after it.
 */
export function recordUpdate(
  current: Cluster,
  change: RecordChange,
  updatedAt: string,
): {
  next: Cluster;
  update: {
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Item;
  };
} {
  const next: Item = { ...current, version: current.version + 1, updatedAt };
  const names: Record<string, string> = { '#version': 'version', '#updatedAt': 'updatedAt' };
  const values: Item = { ':version': current.version, ':next': next.version, ':updatedAt': updatedAt };
  const sets = ['#version = :next', '#updatedAt = :updatedAt'];
  const removes: string[] = [];
  let condition = '#version = :version';
  if (change.to) {
    next.state = change.to;
    names['#state'] = 'state';
    values[':to'] = change.to;
    sets.push('#state = :to');
    const from = (change.from ?? []).map((state, i) => {
      values[`:from${i}`] = state;
      return `:from${i}`;
    });
    condition += ` AND #state IN (${from.join(', ')})`;
  }
  Object.entries(change.changes ?? {}).forEach(([field, value], i) => {
    if (FIXED_FIELDS.has(field)) throw new Error(`a change may not set the cluster's ${field}`);
    names[`#c${i}`] = field;
    if (value === undefined) {
      removes.push(`#c${i}`);
      delete next[field];
    } else {
      values[`:c${i}`] = value;
      sets.push(`#c${i} = :c${i}`);
      next[field] = value;
    }
  });
  return {
    next: next as unknown as Cluster,
    update: {
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * Event ids that sort in the order they were made: `<ISO time>#<counter>#<4 hex>`.
 * The counter orders events made within one millisecond (or while the clock
 * stands still, or steps back); the random suffix keeps ids from different
 * processes apart.
 */
export class EventIdGenerator {
  private lastMs = Number.NEGATIVE_INFINITY;
  private counter = 0;

  next(now: Date): string {
    const ms = Math.max(now.getTime(), this.lastMs);
    if (ms === this.lastMs) {
      this.counter += 1;
    } else {
      this.lastMs = ms;
      this.counter = 0;
    }
    return `${new Date(ms).toISOString()}#${String(this.counter).padStart(6, '0')}#${randomBytes(2).toString('hex')}`;
  }
}

/** Shared by every store of the process: local mode runs several in one process. */
export const processEventIds = new EventIdGenerator();

function withoutUndefined<T extends object>(value: T): Item {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
