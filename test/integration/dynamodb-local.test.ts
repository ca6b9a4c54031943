import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type DynamoDbLocalOptions,
  JAVA_MISSING_MESSAGE,
  startDynamoDbLocal,
} from '../../cli/local/dynamodb-local.ts';
import { ensureTable } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { localDynamoClient } from '../support/dynamodb.ts';

describe('startDynamoDbLocal', () => {
  const folders: string[] = [];
  const running: { stop(): Promise<void> }[] = [];
  const start = async (options: DynamoDbLocalOptions) => {
    const server = await startDynamoDbLocal(options);
    running.push(server);
    return server;
  };

  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const server of running.splice(0)) await server.stop();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it('says how to install Java when there is no Java runtime', async () => {
    const noJava = mkdtempSync(join(tmpdir(), 'bilbo-no-java-'));
    folders.push(noJava);
    vi.stubEnv('JAVA_HOME', noJava);

    await expect(startDynamoDbLocal()).rejects.toThrow(JAVA_MISSING_MESSAGE);
  });

  it('keeps tables on disk across restarts with a dbPath, and stops answering once stopped', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'bilbo-dynamo-'));
    folders.push(dbPath);
    const first = await start({ dbPath });
    await ensureTable(localDynamoClient(first.endpoint), 'kept');
    await first.stop();

    const stopped = localDynamoClient(first.endpoint);
    await expect(stopped.send(new ListTablesCommand({}))).rejects.toThrow();

    const second = await start({ dbPath });
    const { TableNames } = await localDynamoClient(second.endpoint).send(new ListTablesCommand({}));
    expect(TableNames).toEqual(['kept']);
  });
});
