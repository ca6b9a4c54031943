/**
 * The sparse live index on DynamoDB Local: which records carry its mark,
 * what a live list reads, and what becomes of a table and records that an
 * older bilbo wrote before the index existed.
 */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../cli/local/dynamodb-local.ts';
import { DynamoDbClusterStore } from '../../lambdas/adapters/dynamodb/cluster-store.ts';
import {
  clusterKey,
  createTableInput,
  ensureTable,
  LIVE_INDEX,
  LIVE_MARKED_KEY,
} from '../../lambdas/adapters/dynamodb/table-design.ts';
import type { Cluster, ClusterState } from '../../schemas/types.generated.ts';
import { newCluster, storeFixture } from '../contract/store-fixture.ts';
import { localDynamoClient, makeTestStore, type TestStore } from '../support/dynamodb.ts';

let t: TestStore;
const { created, end } = storeFixture(() => t);

beforeEach(async () => {
  t = await makeTestStore();
});

/** The stored item's live mark, read straight from the table. */
async function markOf(id: string): Promise<unknown> {
  const { Item } = await t.client.send(new GetCommand({ TableName: t.tableName, Key: clusterKey(id) }));
  return Item?.liveKind;
}

async function move(cluster: Cluster, from: ClusterState, to: ClusterState): Promise<void> {
  await t.store.transition(cluster.id, {
    name: cluster.name,
    from: [from],
    to,
    event: { step: to, message: to },
  });
}

interface Sent {
  command: string;
  index?: string;
  scanned?: number;
}

/** A store of its own (a new process, as it were) over a client that notes each request and what a Query read. */
function recordingStore(tableName = t.tableName): { store: DynamoDbClusterStore; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: QueryCommandInput }) => {
      const output = await t.client.send(command as never);
      const scanned = (output as { ScannedCount?: number }).ScannedCount;
      sent.push({
        command: command.constructor.name,
        ...(command.input.IndexName ? { index: command.input.IndexName } : {}),
        ...(scanned === undefined ? {} : { scanned }),
      });
      return output;
    },
  } as unknown as TestStore['client'];
  return { store: new DynamoDbClusterStore({ client, tableName, clock: t.clock }), sent };
}

describe('the live index', () => {
  it('marks a record on create and removes the mark in the write that ends it', async () => {
    const cluster = await created();
    const marks: Array<[string, unknown]> = [['CREATING', await markOf(cluster.id)]];
    const path: ClusterState[] = [
      'CREATING',
      'READY',
      'PAUSING',
      'PAUSED',
      'RESUMING',
      'READY',
      'RESTARTING',
    ];
    for (const [at, to] of path.entries()) {
      if (at === 0) continue;
      await move(cluster, path[at - 1]!, to);
      marks.push([to, await markOf(cluster.id)]);
    }
    await move(cluster, 'RESTARTING', 'FAILED');
    marks.push(['FAILED', await markOf(cluster.id)]);
    await move(cluster, 'FAILED', 'DESTROYING');
    marks.push(['DESTROYING', await markOf(cluster.id)]);
    await move(cluster, 'DESTROYING', 'DESTROYED');
    marks.push(['DESTROYED', await markOf(cluster.id)]);

    expect(marks).toEqual([
      ...path.map((state) => [state, 'cluster']),
      ['FAILED', undefined],
      ['DESTROYING', 'cluster'],
      ['DESTROYED', undefined],
    ]);
  });

  it('never marks a record created in an ended state', async () => {
    const cluster = await created('gone', { state: 'FAILED' });

    expect(await markOf(cluster.id)).toBeUndefined();
  });

  it('lists the live clusters with one Query of the live index that reads none of the ended ones', async () => {
    for (let i = 0; i < 40; i++) await end(await created(`old-${i}`), i % 2 === 0 ? 'DESTROYED' : 'FAILED');
    const live = [await created('live-a'), await created('live-b')];
    await t.store.list();
    const { store, sent } = recordingStore();

    const first = await store.list();
    const second = await store.list();

    expect(first.map((c) => c.id).sort()).toEqual(live.map((c) => c.id).sort());
    expect(second).toEqual(first);
    expect(sent).toEqual([
      { command: 'GetCommand' },
      { command: 'QueryCommand', index: LIVE_INDEX.indexName, scanned: 2 },
      { command: 'QueryCommand', index: LIVE_INDEX.indexName, scanned: 2 },
    ]);
  });

  it('pages through the live index when the live clusters fill more than one page', async () => {
    const big = { notes: ['x'.repeat(60_000)] };
    const live: string[] = [];
    for (let i = 0; i < 20; i++) {
      const cluster = newCluster(t.clock, `big-${i}`, {});
      await t.store.create(
        { ...cluster, plan: { ...cluster.plan, ...big } },
        { step: 'accepted', message: 'a' },
      );
      live.push(cluster.id);
    }
    const { store, sent } = recordingStore();

    const listed = await store.list();

    expect(listed.map((c) => c.id).sort()).toEqual(live.sort());
    expect(sent.filter((s) => s.command === 'QueryCommand' && s.index === 'live').length).toBeGreaterThan(1);
  });

  it('lists every cluster, ended ones too, from byKind as before', async () => {
    const ended = await created('ended');
    await end(ended, 'DESTROYED');
    t.clock.advance(1_000);
    const live = await created('live');
    const { store, sent } = recordingStore();

    const all = await store.list({ includeEnded: true });

    expect(all.map((c) => c.id)).toEqual([live.id, ended.id]);
    expect(sent).toEqual([{ command: 'QueryCommand', index: 'byKind', scanned: 2 }]);
  });
});

describe('records written before the live index', () => {
  /** As an older bilbo wrote it: no live mark, whatever its state. */
  async function unmark(id: string): Promise<void> {
    await t.client.send(
      new UpdateCommand({
        TableName: t.tableName,
        Key: clusterKey(id),
        UpdateExpression: 'REMOVE liveKind',
      }),
    );
  }

  it('are marked by the first live list, without a version or an event, and a note says so', async () => {
    const older = await created('older', { state: 'READY' });
    const ended = await created('ended-older');
    await end(ended, 'FAILED');
    await unmark(older.id);
    const { store, sent } = recordingStore();

    const listed = await store.list();

    expect(listed.map((c) => c.id)).toEqual([older.id]);
    expect(listed[0]).toEqual(older);
    expect(await markOf(older.id)).toBe('cluster');
    expect(await markOf(ended.id)).toBeUndefined();
    expect(await t.store.events(older.id)).toHaveLength(1);
    const { Item: note } = await t.client.send(
      new GetCommand({ TableName: t.tableName, Key: LIVE_MARKED_KEY }),
    );
    expect(note?.markedAt).toBe(t.clock.now().toISOString());
    expect(sent.map((s) => s.command)).toEqual([
      'GetCommand',
      'QueryCommand',
      'UpdateCommand',
      'PutCommand',
      'QueryCommand',
    ]);
  });

  it('are looked for once per table: after the note, a new store reads only the note', async () => {
    await t.store.list();
    const later = await created('later', { state: 'READY' });
    await unmark(later.id);
    const { store, sent } = recordingStore();

    expect(await store.list()).toEqual([]);
    expect(sent.map((s) => s.command)).toEqual(['GetCommand', 'QueryCommand']);
  });
});

describe('ensureTable on a table made before the live index', () => {
  // Its own DynamoDB Local: on the run's shared one, busy with the other files' tables, building
  // the index was seen to take more than a minute; a plane's home has a DynamoDB Local of its own.
  let own: DynamoDbLocal;
  beforeAll(async () => {
    own = await startDynamoDbLocal({ startTimeoutMs: 60_000 });
  }, 90_000);
  afterAll(async () => {
    await own?.stop();
  });

  it('adds the index, and the first live list finds the records already there', async () => {
    const tableName = 'bilbo-test-older';
    const design = createTableInput(tableName);
    const raw = localDynamoClient(own.endpoint);
    const documents = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
    await raw.send(
      new CreateTableCommand({
        ...design,
        GlobalSecondaryIndexes: design.GlobalSecondaryIndexes?.filter((i) => i.IndexName !== 'live'),
        AttributeDefinitions: design.AttributeDefinitions?.filter((a) => a.AttributeName !== 'liveKind'),
      }),
    );
    const cluster = newCluster(t.clock, 'older', { state: 'READY' });
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...cluster, ...clusterKey(cluster.id), kind: 'cluster' },
      }),
    );

    await ensureTable(raw, tableName);

    const { Table } = await raw.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus]).sort()).toEqual([
      ['byKind', 'ACTIVE'],
      ['byName', 'ACTIVE'],
      ['live', 'ACTIVE'],
    ]);
    const store = new DynamoDbClusterStore({ client: documents, tableName, clock: t.clock });
    expect((await store.list()).map((c) => c.id)).toEqual([cluster.id]);
  });
});
