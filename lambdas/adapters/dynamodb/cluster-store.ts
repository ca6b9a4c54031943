/**
 * The ClusterStore on DynamoDB (the table laid out in table-design.ts).
 * Every invariant is a condition of the write itself, and nothing is read
 * before a write: a refused write hands back the item as it was
 * (ReturnValuesOnConditionCheckFailure), which says why it was refused.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Cluster, ClusterEvent, ClusterState } from '../../../schemas/types.generated.ts';
import {
  BilboError,
  ClusterAlreadyExistsError,
  ClusterIdNotFoundError,
  ConcurrentUpdateError,
} from '../../domain/errors.ts';
import { isEnded } from '../../domain/lifecycle.ts';
import type { Clock, ClusterStore, NewEvent, TransitionRequest, UpdateRequest } from '../../domain/ports.ts';
import {
  concurrentWrite,
  type OldRecord,
  type RecordWrite,
  refusal,
  transitionWrite,
  updateWrite,
} from '../cluster-writes.ts';
import { type EventIdGenerator, processEventIds, stampEvent } from '../event-ids.ts';
import { liveOnly, markOlderRecords } from './live-marks.ts';
import {
  fromClusterItem,
  fromEventItem,
  type Item,
  recordUpdate,
  toClusterItem,
  toEventItem,
} from './marshal.ts';
import { queryAll } from './query-all.ts';
import {
  BY_KIND_INDEX,
  BY_NAME_INDEX,
  CLUSTER_KIND,
  clusterKey,
  EVENT_SK_END,
  EVENT_SK_PREFIX,
  LIVE_INDEX,
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

type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

export class DynamoDbClusterStore implements ClusterStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly eventIds: EventIdGenerator;
  /** Whether this process has seen the table's note that older records carry the live mark. */
  private olderRecordsMarked = false;

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

  /**
   * Without `includeEnded`, a Query of the sparse live index: its cost is
   * the live clusters', whatever the history. With it, every cluster.
   */
  async list(options: { includeEnded?: boolean } = {}): Promise<Cluster[]> {
    const index = options.includeEnded ? BY_KIND_INDEX : LIVE_INDEX;
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: index.indexName,
      KeyConditionExpression: '#kind = :kind',
      ExpressionAttributeNames: { '#kind': index.partitionKey.name },
      ExpressionAttributeValues: { ':kind': CLUSTER_KIND },
      ScanIndexForward: false,
    };
    try {
      if (options.includeEnded) return (await queryAll(this.client, input)).map(fromClusterItem);
      if (!this.olderRecordsMarked) {
        await markOlderRecords(this.client, this.tableName, this.clock);
        this.olderRecordsMarked = true;
      }
      const items = await queryAll(this.client, liveOnly(input));
      return items.map(fromClusterItem);
    } catch (error) {
      throw unexpected(error, 'list');
    }
  }

  async transition(id: string, request: TransitionRequest): Promise<void> {
    await this.write(id, transitionWrite(request), isEnded(request.to));
  }

  async update(id: string, request: UpdateRequest): Promise<void> {
    await this.write(id, updateWrite(request), false);
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
   * One write: a plain UpdateItem of the record, or — with an event, or a
   * name to free — one transaction of the record's update, the event and
   * the name lock's release.
   */
  private async write(id: string, write: RecordWrite, freeName: boolean): Promise<void> {
    const update = {
      TableName: this.tableName,
      Key: clusterKey(id),
      ...recordUpdate(write, this.clock.now().toISOString()),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    } as const;
    if (!write.event && !freeName) return this.updateItem(id, write, update);

    const items: TransactItems = [{ Update: update }];
    if (write.event) {
      const event = this.newEvent(id, write.event, write.to);
      items.push({ Put: { TableName: this.tableName, Item: toEventItem(event) } });
    }
    if (!freeName || write.name === undefined) {
      await this.transact(id, write, items);
      return;
    }
    const release: TransactItems[number] = {
      Delete: {
        TableName: this.tableName,
        Key: nameLockKey(write.name),
        // An ended cluster never frees a newer cluster's name.
        ConditionExpression: 'clusterId = :id',
        ExpressionAttributeValues: { ':id': id },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
    if ((await this.transact(id, write, [...items, release])) === 'lock-not-held') {
      // Only the lock's condition failed: the name is free already, or a
      // newer cluster holds it (this one failed once, and the name was taken
      // since). The same write again without the release: the one path on
      // which a write follows another, at most once.
      await this.transact(id, write, items);
    }
  }

  private async updateItem(id: string, write: RecordWrite, update: UpdateCommandInput): Promise<void> {
    try {
      await this.client.send(new UpdateCommand(update));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw refusal(id, write, oldRecord(error.Item));
      if (error instanceof TransactionConflictException) throw concurrentWrite(id, error);
      throw unexpected(error, 'update');
    }
  }

  /** 'lock-not-held' when the only refusal was the name lock's release, the last item. */
  private async transact(
    id: string,
    write: RecordWrite,
    items: TransactItems,
  ): Promise<'done' | 'lock-not-held'> {
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return 'done';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw unexpected(error, 'write');
      const reasons = error.CancellationReasons ?? [];
      const [record] = reasons;
      if (record?.Code === 'ConditionalCheckFailed') throw refusal(id, write, oldRecord(record.Item));
      if (reasons.some((reason) => reason.Code === 'TransactionConflict')) throw concurrentWrite(id, error);
      const last = reasons.length === items.length ? reasons.at(-1) : undefined;
      if (items.at(-1)?.Delete && last?.Code === 'ConditionalCheckFailed') return 'lock-not-held';
      throw unexpected(error, 'write');
    }
  }

  private newEvent(clusterId: string, event: NewEvent, state?: ClusterState): ClusterEvent {
    return stampEvent(this.eventIds, this.clock, clusterId, event, state);
  }
}

/** The record as a refused write found it, from the raw item it hands back; undefined when there was none. */
function oldRecord(item: Record<string, AttributeValue> | undefined): OldRecord | undefined {
  if (!item) return undefined;
  return {
    name: item.name?.S,
    state: item.state?.S as ClusterState | undefined,
    version: item.version?.N === undefined ? undefined : Number(item.version.N),
  };
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
