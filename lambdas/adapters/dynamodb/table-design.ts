/**
 * The one source of truth for the clusters table: the CDK construct and the
 * local CreateTable (local mode, tests) both build the table from these.
 *
 * Items (one table, single-table design):
 *
 * | item         | pk                | sk                 | other attributes                              |
 * |--------------|-------------------|--------------------|-----------------------------------------------|
 * | cluster      | `CLUSTER#<id>`    | `META`             | the Cluster fields, `kind` = 'cluster'        |
 * | name lock    | `NAME#<name>`     | `LOCK`             | `clusterId` of the live cluster, `lockedAt`   |
 * | event        | `CLUSTER#<id>`    | `EVENT#<event id>` | the ClusterEvent fields, `expiresAt`          |
 * | command      | `CLUSTER#<id>`    | `COMMAND#<cmd id>` | `command`: the CommandRecord, `expiresAt`     |
 * | table note   | `TABLE`           | `LIVE-MARKED`      | `markedAt`: older records carry the live mark |
 *
 * - A name lock exists only while its cluster is live (not DESTROYED or
 *   FAILED): creating it with attribute_not_exists is how a name stays
 *   unique among live clusters.
 * - Event ids sort in write order: `<ISO time>#<counter>#<4 hex>` (see
 *   adapters/event-ids.ts), so a Query on `EVENT#` returns a cluster's
 *   history in order.
 * - GSI `byName` (name, createdAt) holds only cluster items (only they carry
 *   `name`); GSI `byKind` (kind, createdAt) lists every cluster, newest first.
 * - GSI `live` (liveKind, createdAt) is sparse: a cluster item carries
 *   `liveKind` (= `kind`) only while it is not DESTROYED or FAILED, so a
 *   Query of it reads the live clusters alone, however long the history.
 *   The store writes the mark with the state, in the same write (marshal.ts).
 *   Records written before the index existed are marked once per table, by
 *   the first list that finds no `LIVE-MARKED` note (live-marks.ts).
 * - A cluster's instances are kept per role (`roleInstances`, a map of
 *   role → list), so a write sets one role's list without reading the
 *   others; items written before that have a plain `instances` list.
 * - Events carry a TTL (`expiresAt`, epoch seconds) so old history expires.
 */

import { setTimeout as delay } from 'node:timers/promises';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';

export interface KeyAttribute {
  readonly name: string;
  /** 'S': every key of this table is a string. */
  readonly type: 'S';
}

export interface IndexDesign {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
}

export const PARTITION_KEY: KeyAttribute = { name: 'pk', type: 'S' };
export const SORT_KEY: KeyAttribute = { name: 'sk', type: 'S' };

export const BY_NAME_INDEX: IndexDesign = {
  indexName: 'byName',
  partitionKey: { name: 'name', type: 'S' },
  sortKey: { name: 'createdAt', type: 'S' },
};

export const BY_KIND_INDEX: IndexDesign = {
  indexName: 'byKind',
  partitionKey: { name: 'kind', type: 'S' },
  sortKey: { name: 'createdAt', type: 'S' },
};

export const LIVE_INDEX: IndexDesign = {
  indexName: 'live',
  partitionKey: { name: 'liveKind', type: 'S' },
  sortKey: { name: 'createdAt', type: 'S' },
};

export const GLOBAL_INDEXES: readonly IndexDesign[] = [BY_NAME_INDEX, BY_KIND_INDEX, LIVE_INDEX];

/** Epoch seconds after which DynamoDB may delete the item (events only). */
export const TTL_ATTRIBUTE = 'expiresAt';
export const BILLING_MODE = 'PAY_PER_REQUEST';

/** The value of `kind` on cluster items: the byKind partition that lists them. */
export const CLUSTER_KIND = 'cluster';
export const CLUSTER_SK = 'META';
export const LOCK_SK = 'LOCK';
export const EVENT_SK_PREFIX = 'EVENT#';
/** Command ids sort by time, so a Query on `COMMAND#` backwards lists a cluster's newest first. */
export const COMMAND_SK_PREFIX = 'COMMAND#';
/** Sorts right after every `EVENT#...` key: the upper bound of event queries. */
export const EVENT_SK_END = 'EVENT$';
/** How long an event is kept on AWS. */
export const EVENT_RETENTION_DAYS = 90;

/** A cluster's instances on its item: a map of role → that role's list. */
export const ROLE_INSTANCES_ATTRIBUTE = 'roleInstances';

/** Attributes that exist only for the table's sake, never part of a Cluster or ClusterEvent. */
export const STORAGE_ATTRIBUTES: readonly string[] = [
  PARTITION_KEY.name,
  SORT_KEY.name,
  'kind',
  LIVE_INDEX.partitionKey.name,
  TTL_ATTRIBUTE,
  ROLE_INSTANCES_ATTRIBUTE,
];

export function clusterKey(id: string): { pk: string; sk: string } {
  return { pk: `CLUSTER#${id}`, sk: CLUSTER_SK };
}

export function nameLockKey(name: string): { pk: string; sk: string } {
  return { pk: `NAME#${name}`, sk: LOCK_SK };
}

/** The table's note that every record written before the live index carries its mark. */
export const LIVE_MARKED_KEY = { pk: 'TABLE', sk: 'LIVE-MARKED' } as const;

export function eventKey(clusterId: string, eventId: string): { pk: string; sk: string } {
  return { pk: `CLUSTER#${clusterId}`, sk: `${EVENT_SK_PREFIX}${eventId}` };
}

export function createTableInput(tableName: string): CreateTableCommandInput {
  const keyAttributes = [
    PARTITION_KEY,
    SORT_KEY,
    ...GLOBAL_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  const unique = [...new Map(keyAttributes.map((a) => [a.name, a])).values()];
  return {
    TableName: tableName,
    BillingMode: BILLING_MODE,
    AttributeDefinitions: unique.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [
      { AttributeName: PARTITION_KEY.name, KeyType: 'HASH' },
      { AttributeName: SORT_KEY.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: GLOBAL_INDEXES.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

/**
 * Creates the table when it is missing, adds the indexes of the design a
 * table made by an older bilbo lacks, waits until it and its indexes are
 * ACTIVE, and turns TTL on. Safe to call again, and concurrently.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  if (!(await describeTable(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const untilActive = async () => {
    while (statusOf(await describeTable(client, tableName)) !== 'ACTIVE') {
      if (Date.now() >= deadline) throw new Error(`table ${tableName} did not become ACTIVE in time`);
      await delay(200);
    }
  };
  await untilActive();
  await addMissingIndexes(client, tableName, untilActive);
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const ttlStatus = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (ttlStatus !== 'ENABLED' && ttlStatus !== 'ENABLING') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  }
}

/** One index at a time, as DynamoDB allows; DynamoDB fills each from the items that carry its keys. */
async function addMissingIndexes(
  client: DynamoDBClient,
  tableName: string,
  untilActive: () => Promise<void>,
): Promise<void> {
  const design = createTableInput(tableName);
  const present = async () =>
    new Set(((await describeTable(client, tableName))?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  const before = await present();
  for (const index of (design.GlobalSecondaryIndexes ?? []).filter((i) => !before.has(i.IndexName))) {
    try {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: design.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
    } catch (error) {
      // Another caller is adding it at the same moment: done once that is.
      await untilActive();
      if (!(await present()).has(index.IndexName)) throw error;
    }
    await untilActive();
  }
}

async function describeTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** 'ACTIVE' only when the table and all its indexes are; undefined when there is no table. */
function statusOf(table: TableDescription | undefined): string | undefined {
  const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
  return table?.TableStatus === 'ACTIVE' && !indexesActive ? 'UPDATING' : table?.TableStatus;
}
