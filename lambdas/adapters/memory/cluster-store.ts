/**
 * The ClusterStore in memory, with the DynamoDB store's semantics and
 * errors (the same contract tests run against both): for tests, and for
 * anything that needs a store without a table. Every call does its checks
 * and its writes without awaiting in between, so each write is atomic.
 */
import type { Cluster, ClusterEvent, ClusterState, RoleName } from '../../../schemas/types.generated.ts';
import { ClusterAlreadyExistsError, ClusterIdNotFoundError } from '../../domain/errors.ts';
import { isEnded } from '../../domain/lifecycle.ts';
import type { Clock, ClusterStore, NewEvent, TransitionRequest, UpdateRequest } from '../../domain/ports.ts';
import {
  accepts,
  groupByRole,
  inRoleOrder,
  type RecordWrite,
  type RoleInstances,
  refusal,
  transitionWrite,
  updateWrite,
} from '../cluster-writes.ts';
import { type EventIdGenerator, processEventIds, stampEvent } from '../event-ids.ts';

export interface MemoryClusterStoreDeps {
  clock: Clock;
  /** @default one generator shared by the whole process */
  eventIds?: EventIdGenerator;
}

/** A record as kept: the instances per role, as the DynamoDB item keeps them. */
interface Stored {
  cluster: Omit<Cluster, 'instances'>;
  roleInstances: RoleInstances;
  events: ClusterEvent[];
}

export class MemoryClusterStore implements ClusterStore {
  private readonly clock: Clock;
  private readonly eventIds: EventIdGenerator;
  private readonly records = new Map<string, Stored>();
  /** name → the id of the live cluster holding it. */
  private readonly nameLocks = new Map<string, string>();

  constructor(deps: MemoryClusterStoreDeps) {
    this.clock = deps.clock;
    this.eventIds = deps.eventIds ?? processEventIds;
  }

  async create(cluster: Cluster, event: NewEvent): Promise<void> {
    if (this.nameLocks.has(cluster.name)) throw new ClusterAlreadyExistsError(cluster.name);
    if (this.records.has(cluster.id)) throw new Error(`cluster id ${cluster.id} is already recorded`);
    const { instances, ...fields } = structuredClone(withoutUndefined(cluster));
    this.nameLocks.set(cluster.name, cluster.id);
    this.records.set(cluster.id, {
      cluster: fields,
      roleInstances: groupByRole(instances ?? []),
      events: [this.newEvent(cluster.id, event, cluster.state)],
    });
  }

  async get(id: string): Promise<Cluster | undefined> {
    const stored = this.records.get(id);
    return stored ? copyOf(stored) : undefined;
  }

  async findByName(name: string): Promise<Cluster | undefined> {
    const live = this.nameLocks.get(name);
    if (live !== undefined) return this.get(live);
    const [latest] = this.newestFirst().filter((stored) => stored.cluster.name === name);
    return latest ? copyOf(latest) : undefined;
  }

  async list(options: { includeEnded?: boolean } = {}): Promise<Cluster[]> {
    return this.newestFirst()
      .filter((stored) => options.includeEnded || !isEnded(stored.cluster.state))
      .map(copyOf);
  }

  async transition(id: string, request: TransitionRequest): Promise<void> {
    this.write(id, transitionWrite(request));
  }

  async update(id: string, request: UpdateRequest): Promise<void> {
    this.write(id, updateWrite(request));
  }

  async appendEvent(id: string, event: NewEvent): Promise<ClusterEvent> {
    const stored = this.records.get(id);
    if (!stored) throw new ClusterIdNotFoundError(id);
    const added = this.newEvent(id, event);
    stored.events.push(added);
    return structuredClone(added);
  }

  async events(id: string, options: { after?: string; limit?: number } = {}): Promise<ClusterEvent[]> {
    const { after, limit } = options;
    if (limit !== undefined && limit <= 0) return [];
    const events = (this.records.get(id)?.events ?? []).filter(
      (event) => after === undefined || event.id > after,
    );
    return structuredClone(limit === undefined ? events : events.slice(0, limit));
  }

  private write(id: string, write: RecordWrite): void {
    const stored = this.records.get(id);
    if (!stored || !accepts(write, stored.cluster)) throw refusal(id, write, stored?.cluster);
    const { cluster } = stored;
    const { roleInstances, ...fields } = structuredClone(write.changes);
    const record = cluster as Record<string, unknown>;
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined) delete record[field];
      else record[field] = withoutUndefined(value);
    }
    const lists = roleInstances ?? {};
    for (const role of Object.keys(lists) as RoleName[]) {
      const list = lists[role];
      if (list === undefined) delete stored.roleInstances[role];
      else stored.roleInstances[role] = withoutUndefined(list);
    }
    cluster.version += 1;
    cluster.updatedAt = this.clock.now().toISOString();
    if (write.to) cluster.state = write.to;
    if (write.event) stored.events.push(this.newEvent(id, write.event, write.to));
    // An ended cluster never frees a newer cluster's name.
    if (write.to && isEnded(write.to) && this.nameLocks.get(cluster.name) === id) {
      this.nameLocks.delete(cluster.name);
    }
  }

  private newestFirst(): Stored[] {
    // Among equal createdAt, the one recorded later first.
    return [...this.records.values()]
      .reverse()
      .sort((a, b) => compare(b.cluster.createdAt, a.cluster.createdAt));
  }

  private newEvent(clusterId: string, event: NewEvent, state?: ClusterState): ClusterEvent {
    return stampEvent(this.eventIds, this.clock, clusterId, event, state);
  }
}

function copyOf(stored: Stored): Cluster {
  return structuredClone({ ...stored.cluster, instances: inRoleOrder(stored.roleInstances) });
}

/** As DynamoDB orders string keys (these are ASCII): by code unit, not by locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A copy without undefined values at any depth, as DynamoDB (removeUndefinedValues) keeps a record. */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((item) => item !== undefined).map(withoutUndefined) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, withoutUndefined(item)]),
  ) as T;
}
