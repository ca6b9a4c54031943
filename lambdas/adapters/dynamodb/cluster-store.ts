/**
 * The ClusterStore on DynamoDB (the table laid out in table-design.ts).
 * Every invariant is a condition of the write itself; the consistent read
 * before a change only builds the new record and picks the right error.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Cluster, ClusterEvent, ClusterState } from '../../../schemas/types.generated.ts';
import {
  BilboError,
  ClusterAlreadyExistsError,
  ClusterIdNotFoundError,
  ConcurrentUpdateError,
  IllegalTransitionError,
} from '../../domain/errors.ts';
import type { Clock, ClusterStore, NewEvent, TransitionRequest } from '../../domain/ports.ts';
import {
  type EventIdGenerator,
  fromClusterItem,
  fromEventItem,
  type Item,
  processEventIds,
  recordUpdate,
  toClusterItem,
  toEventItem,
} from './marshal.ts';
import {
  BY_KIND_INDEX,
  BY_NAME_INDEX,
  CLUSTER_KIND,
  clusterKey,
  EVENT_SK_END,
  EVENT_SK_PREFIX,
  nameLockKey,
} from './table-design.ts';

export interface DynamoDbClusterStoreDeps {
  /** Built with `marshallOptions: { removeUndefinedValues: true }`: optional nested fields may be undefined. */
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  /** @default one generator shared by the whole process */
  eventIds?: EventIdGenerator;
}

type Changes = TransitionRequest['changes'];

const ENDED_STATES: readonly ClusterState[] = ['DESTROYED', 'FAILED'];
/** Without an expected version, a write that lost a race is tried again from a fresh read. */
const MAX_ATTEMPTS = 5;

interface Write {
  current: Cluster;
  /** The states the write accepts; absent for a plain update. */
  from?: readonly ClusterState[];
  to?: ClusterState;
  changes: Changes;
  event?: NewEvent;
  releaseName: boolean;
}

/** The write lost a race with another writer; the caller decides whether to retry. */
class LostRace extends Error {}

export class DynamoDbClusterStore implements ClusterStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly eventIds: EventIdGenerator;

  constructor(deps: DynamoDbClusterStoreDeps) {
    this.client = deps.client;
    this.tableName = deps.tableName;
    this.clock = deps.clock;
    this.eventIds = deps.eventIds ?? processEventIds;
  }

  async create(cluster: Cluster, event: NewEvent): Promise<void> {
    const first = this.newEvent(cluster.id, event, cluster.state);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...nameLockKey(cluster.name), clusterId: cluster.id, lockedAt: first.at },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: toClusterItem(cluster),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.tableName, Item: toEventItem(first) } },
          ],
        }),
      );
    } catch (error) {
      const reasons = cancellationCodes(error);
      if (reasons?.[0] === 'ConditionalCheckFailed') throw new ClusterAlreadyExistsError(cluster.name);
      if (reasons?.includes('TransactionConflict')) {
        const message = `Another request is creating a cluster named "${cluster.name}"; try again.`;
        throw new ConcurrentUpdateError(message, { cause: error });
      }
      if (reasons?.[1] === 'ConditionalCheckFailed') {
        throw new Error(`cluster id ${cluster.id} is already recorded`, { cause: error });
      }
      throw unexpected(error, 'create');
    }
  }

  async get(id: string): Promise<Cluster | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: clusterKey(id), ConsistentRead: true }),
      );
      return Item ? fromClusterItem(Item) : undefined;
    } catch (error) {
      throw unexpected(error, 'get');
    }
  }

  async findByName(name: string): Promise<Cluster | undefined> {
    try {
      const { Item: lock } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: nameLockKey(name), ConsistentRead: true }),
      );
      if (typeof lock?.clusterId === 'string') {
        const live = await this.get(lock.clusterId);
        if (live) return live;
      }
      const { Items } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: BY_NAME_INDEX.indexName,
          KeyConditionExpression: '#name = :name',
          ExpressionAttributeNames: { '#name': BY_NAME_INDEX.partitionKey.name },
          ExpressionAttributeValues: { ':name': name },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      return Items?.[0] ? fromClusterItem(Items[0]) : undefined;
    } catch (error) {
      throw unexpected(error, 'findByName');
    }
  }

  async list(options: { includeEnded?: boolean } = {}): Promise<Cluster[]> {
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: BY_KIND_INDEX.indexName,
      KeyConditionExpression: '#kind = :kind',
      ExpressionAttributeNames: { '#kind': BY_KIND_INDEX.partitionKey.name },
      ExpressionAttributeValues: { ':kind': CLUSTER_KIND },
      ScanIndexForward: false,
    };
    if (!options.includeEnded) {
      input.FilterExpression = 'NOT (#state IN (:destroyed, :failed))';
      input.ExpressionAttributeNames = { ...input.ExpressionAttributeNames, '#state': 'state' };
      input.ExpressionAttributeValues = {
        ...input.ExpressionAttributeValues,
        ':destroyed': 'DESTROYED',
        ':failed': 'FAILED',
      };
    }
    try {
      const items = await this.queryAll(input);
      return items.map(fromClusterItem);
    } catch (error) {
      throw unexpected(error, 'list');
    }
  }

  async transition(id: string, request: TransitionRequest): Promise<Cluster> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.mustGet(id);
      if (request.expectedVersion !== undefined && current.version !== request.expectedVersion) {
        throw versionMoved(id, request.expectedVersion, current.version);
      }
      if (!request.from.includes(current.state)) throw new IllegalTransitionError(current.state, request.to);
      const releaseName =
        ENDED_STATES.includes(request.to) &&
        !ENDED_STATES.includes(current.state) &&
        (await this.holdsName(current));
      try {
        return await this.write({
          current,
          from: request.from,
          to: request.to,
          changes: request.changes,
          event: request.event,
          releaseName,
        });
      } catch (error) {
        if (!(error instanceof LostRace)) throw error;
        if (request.expectedVersion !== undefined || attempt >= MAX_ATTEMPTS) {
          throw new ConcurrentUpdateError(`Cluster ${id} changed while going to ${request.to}; try again.`, {
            cause: error,
          });
        }
      }
    }
  }

  async update(id: string, expectedVersion: number, changes: Changes, event?: NewEvent): Promise<Cluster> {
    const current = await this.mustGet(id);
    if (current.version !== expectedVersion) throw versionMoved(id, expectedVersion, current.version);
    try {
      return await this.write({ current, changes, ...(event ? { event } : {}), releaseName: false });
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
      throw new ConcurrentUpdateError(`Cluster ${id} changed while it was being updated; try again.`, {
        cause: error,
      });
    }
  }

  async appendEvent(id: string, event: NewEvent): Promise<ClusterEvent> {
    const added = this.newEvent(id, event);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: clusterKey(id),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            { Put: { TableName: this.tableName, Item: toEventItem(added) } },
          ],
        }),
      );
    } catch (error) {
      if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') throw new ClusterIdNotFoundError(id);
      throw unexpected(error, 'appendEvent');
    }
    return added;
  }

  async events(id: string, options: { after?: string; limit?: number } = {}): Promise<ClusterEvent[]> {
    const { after, limit } = options;
    if (limit !== undefined && limit <= 0) return [];
    // BETWEEN is inclusive: the event `after` itself is dropped below.
    const input: QueryCommandInput = {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': clusterKey(id).pk,
        ':from': `${EVENT_SK_PREFIX}${after ?? ''}`,
        ':to': EVENT_SK_END,
      },
      ConsistentRead: true,
    };
    try {
      const events: ClusterEvent[] = [];
      let startKey: Item | undefined;
      do {
        const wanted = limit === undefined ? undefined : limit - events.length + 1;
        const page = await this.client.send(
          new QueryCommand({
            ...input,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            ...(wanted ? { Limit: wanted } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const event = fromEventItem(item);
          if (event.id !== after) events.push(event);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey && (limit === undefined || events.length < limit));
      return limit === undefined ? events : events.slice(0, limit);
    } catch (error) {
      throw unexpected(error, 'events');
    }
  }

  /**
   * One transaction: the record's update (conditional on the version read,
   * and on `from` when there is one), the event, and the name lock's release.
   */
  private async write(write: Write): Promise<Cluster> {
    const { current, to } = write;
    const { next, update } = recordUpdate(current, write, this.clock.now().toISOString());
    const transactItems: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Update: {
          TableName: this.tableName,
          Key: clusterKey(current.id),
          ...update,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ];
    if (write.event) {
      transactItems.push({
        Put: { TableName: this.tableName, Item: toEventItem(this.newEvent(current.id, write.event, to)) },
      });
    }
    if (write.releaseName) {
      transactItems.push({
        Delete: {
          TableName: this.tableName,
          Key: nameLockKey(current.name),
          // An ended cluster never frees a newer cluster's name.
          ConditionExpression: 'clusterId = :id',
          ExpressionAttributeValues: { ':id': current.id },
        },
      });
    }

    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: transactItems }));
      return next;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw unexpected(error, 'write');
      const [record, ...others] = error.CancellationReasons ?? [];
      if (record?.Code === 'ConditionalCheckFailed') {
        const old = record.Item;
        if (!old) throw new ClusterIdNotFoundError(current.id);
        const oldState = old.state?.S as ClusterState | undefined;
        if (Number(old.version?.N) === current.version && to && oldState && !write.from?.includes(oldState)) {
          throw new IllegalTransitionError(oldState, to);
        }
        throw new LostRace(`version ${current.version} is now ${old.version?.N}`, { cause: error });
      }
      const codes = [record?.Code, ...others.map((reason) => reason.Code)];
      // A conflicting transaction, or the lock released by a racing writer: read again.
      if (codes.includes('TransactionConflict') || codes.includes('ConditionalCheckFailed')) {
        throw new LostRace('the write raced another writer', { cause: error });
      }
      throw unexpected(error, 'write');
    }
  }

  private async mustGet(id: string): Promise<Cluster> {
    const cluster = await this.get(id);
    if (!cluster) throw new ClusterIdNotFoundError(id);
    return cluster;
  }

  private async holdsName(cluster: Cluster): Promise<boolean> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: nameLockKey(cluster.name), ConsistentRead: true }),
      );
      return Item?.clusterId === cluster.id;
    } catch (error) {
      throw unexpected(error, 'holdsName');
    }
  }

  private async queryAll(input: QueryCommandInput): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private newEvent(clusterId: string, event: NewEvent, state?: ClusterState): ClusterEvent {
    const now = this.clock.now();
    return {
      id: this.eventIds.next(now),
      clusterId,
      at: now.toISOString(),
      step: event.step,
      message: event.message,
      ...(state ? { state } : {}),
    };
  }
}

function versionMoved(id: string, expected: number, actual: number): ConcurrentUpdateError {
  return new ConcurrentUpdateError(
    `Cluster ${id} is at version ${actual}, not ${expected}: someone else changed it. Read it again and retry.`,
  );
}

function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((reason) => reason.Code);
}

function unexpected(error: unknown, operation: string): Error {
  if (error instanceof BilboError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`DynamoDB ${operation} failed: ${message}`, { cause: error });
}
