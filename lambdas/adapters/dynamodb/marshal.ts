/**
 * Cluster and event records ⇄ table items. The storage attributes (keys,
 * `kind`, the live mark, TTL, the instances kept per role) are added here
 * and stripped here, so the objects the store returns match the API
 * schemas exactly.
 */
import type { Cluster, ClusterEvent, ClusterState } from '../../../schemas/types.generated.ts';
import { isEnded } from '../../domain/lifecycle.ts';
import { groupByRole, inRoleOrder, type RecordWrite, type RoleInstances } from '../cluster-writes.ts';
import {
  CLUSTER_KIND,
  clusterKey,
  EVENT_RETENTION_DAYS,
  eventKey,
  LIVE_INDEX,
  PARTITION_KEY,
  ROLE_INSTANCES_ATTRIBUTE,
  STORAGE_ATTRIBUTES,
  TTL_ATTRIBUTE,
} from './table-design.ts';

export type Item = Record<string, unknown>;

const EVENT_FIELDS = ['id', 'clusterId', 'at', 'step', 'message', 'state'] as const;

/** The attribute that puts a cluster item in the sparse live index. */
export const LIVE_MARK = LIVE_INDEX.partitionKey.name;

/**
 * The one rule of the live index: a record in this state carries the mark
 * (undefined: it carries none). Every write that sets a state, the create's
 * included, writes the mark with it.
 */
export function liveMarkOf(state: ClusterState): string | undefined {
  return isEnded(state) ? undefined : CLUSTER_KIND;
}

export function toClusterItem(cluster: Cluster): Item {
  const { instances, ...fields } = cluster;
  const mark = liveMarkOf(cluster.state);
  return {
    ...withoutUndefined(fields),
    [ROLE_INSTANCES_ATTRIBUTE]: groupByRole(instances ?? []),
    ...clusterKey(cluster.id),
    kind: CLUSTER_KIND,
    ...(mark === undefined ? {} : { [LIVE_MARK]: mark }),
  };
}

export function fromClusterItem(item: Item): Cluster {
  const { [ROLE_INSTANCES_ATTRIBUTE]: roleInstances, ...cluster } = item;
  for (const attribute of STORAGE_ATTRIBUTES) delete cluster[attribute];
  // An item written before instances were kept per role has a plain `instances` list.
  if (roleInstances && typeof roleInstances === 'object') {
    cluster.instances = inRoleOrder(roleInstances as RoleInstances);
  }
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

export interface UpdateExpressionParts {
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Item;
}

/**
 * The UpdateItem of one write: conditional on the record existing, on its
 * name, state and version as the write asks, and bumping the version in
 * the same expression, so nothing needs reading first. A new state sets or
 * removes the live mark in the same expression. Each role's list
 * of instances is its own path, so setting one replaces only that role's.
 */
export function recordUpdate(write: RecordWrite, updatedAt: string): UpdateExpressionParts {
  const names: Record<string, string> = { '#version': 'version', '#updatedAt': 'updatedAt' };
  const values: Item = { ':one': 1, ':updatedAt': updatedAt };
  const sets = ['#version = #version + :one', '#updatedAt = :updatedAt'];
  const removes: string[] = [];
  const conditions = [`attribute_exists(${PARTITION_KEY.name})`];
  if (write.name !== undefined) {
    names['#name'] = 'name';
    values[':name'] = write.name;
    conditions.push('#name = :name');
  }
  if (write.from) {
    names['#state'] = 'state';
    const from = write.from.map((state, i) => {
      values[`:from${i}`] = state;
      return `:from${i}`;
    });
    conditions.push(`#state IN (${from.join(', ')})`);
  }
  if (write.expectedVersion !== undefined) {
    values[':expected'] = write.expectedVersion;
    conditions.push('#version = :expected');
  }
  if (write.to) {
    names['#state'] = 'state';
    values[':to'] = write.to;
    sets.push('#state = :to');
    names['#live'] = LIVE_MARK;
    const mark = liveMarkOf(write.to);
    if (mark === undefined) {
      removes.push('#live');
    } else {
      values[':live'] = mark;
      sets.push('#live = :live');
    }
  }
  const { roleInstances, ...fields } = write.changes;
  Object.entries(fields).forEach(([field, value], i) => {
    names[`#c${i}`] = field;
    if (value === undefined) {
      removes.push(`#c${i}`);
    } else {
      values[`:c${i}`] = value;
      sets.push(`#c${i} = :c${i}`);
    }
  });
  Object.entries(roleInstances ?? {}).forEach(([role, list], i) => {
    names['#ri'] = ROLE_INSTANCES_ATTRIBUTE;
    names[`#r${i}`] = role;
    if (list === undefined) {
      removes.push(`#ri.#r${i}`);
    } else {
      values[`:r${i}`] = list;
      sets.push(`#ri.#r${i} = :r${i}`);
    }
  });
  return {
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function withoutUndefined<T extends object>(value: T): Item {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
