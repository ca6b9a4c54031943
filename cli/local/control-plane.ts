/**
 * `bilbo local`: the whole control plane on one machine, with no AWS
 * account. The same API and task handlers as on AWS, behind a loopback
 * server that checks SigV4 like API Gateway; the synthesized state
 * machines run by an ASL interpreter; DynamoDB Local; and Dask processes
 * on 127.0.0.1 standing in for EC2 instances.
 */
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbClusterStore } from '../../lambdas/adapters/dynamodb/cluster-store.ts';
import { ensureTable } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { HttpReadinessProbe } from '../../lambdas/adapters/http/readiness-probe.ts';
import { findDaskPython, pythonCandidates } from '../../lambdas/adapters/local/dask-runtime.ts';
import { LocalPreflight } from '../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import type { ClusterStore } from '../../lambdas/domain/ports.ts';
import type { ProbeSettings } from '../../lambdas/domain/workflow/probe-ready.ts';
import { startApiServer } from './api-server.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { localCredentials } from './local-credentials.ts';
import { LocalWorkflowRunner, type LocalWorkflowRunnerOptions } from './workflow-runner.ts';

export interface LocalControlPlaneOptions {
  home: string;
  log: (line: string) => void;
  /** @default a free port */
  port?: number;
  /** @default 'us-east-1' */
  region?: string;
  /** Faster polling for tests and benchmarks. */
  probeSettings?: Partial<ProbeSettings>;
  /** Workflow runner options: faster waits, fault injection in tests. @default { waitOverrideMs: 100 } */
  runner?: LocalWorkflowRunnerOptions;
}

export interface LocalControlPlane {
  endpoint: string;
  region: string;
  /** Set when the caller had no AWS credentials and a key pair was made for this run. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  store: ClusterStore;
  provider: LocalProcessProvider;
  runner: LocalWorkflowRunner;
  /** Stops the server, the workflows, every cluster process and DynamoDB Local. */
  stop(): Promise<void>;
}

const TABLE_NAME = 'bilbo-local';
/** How long stopping waits for the workflows to record their end. */
const IDLE_WAIT_MS = 20_000;
const DEFAULT_PROBE: ProbeSettings = { budgetMs: 10_000, intervalMs: 100, network: 'public' };

export async function startLocalControlPlane(options: LocalControlPlaneOptions): Promise<LocalControlPlane> {
  const region = options.region ?? 'us-east-1';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const stopping: Array<() => Promise<void>> = [];
  let stopped: Promise<void> | undefined;
  const stopAll = () => {
    stopped ??= (async () => {
      for (const stop of [...stopping].reverse()) {
        await stop().catch((error) => options.log(`while stopping: ${error}`));
      }
    })();
    return stopped;
  };

  try {
    const provider = new LocalProcessProvider({
      stateDir: join(options.home, 'local'),
      python: await findDaskPython(pythonCandidates(process.env)),
    });
    const leftovers = await provider.registry.removeLeftovers();
    if (leftovers.length > 0) options.log(`removed ${leftovers.length} process(es) left by an earlier run`);

    options.log('starting DynamoDB Local');
    const dynamo = await startDynamoDbLocal();
    stopping.push(() => dynamo.stop());
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      { marshallOptions: { removeUndefinedValues: true } },
    );
    await ensureTable(client, TABLE_NAME);
    const store = new DynamoDbClusterStore({
      client,
      tableName: TABLE_NAME,
      clock: { now: () => new Date() },
    });

    options.log('synthesizing the workflows');
    const runner = await LocalWorkflowRunner.fromSynth({ waitOverrideMs: 100, ...options.runner });
    stopping.push(() => stopClusters(provider, runner));

    const { provideDependencies } = await import('../../lambdas/handlers/composition.ts');
    provideDependencies({
      store,
      provider,
      catalog: new LocalMachineCatalog(),
      preflight: new LocalPreflight(),
      probe: new HttpReadinessProbe(),
      secrets: new MemorySecretStore(),
      workflows: runner,
      probeSettings: { ...DEFAULT_PROBE, ...options.probeSettings },
    });
    const { handler } = await import('../../lambdas/handlers/api.ts');

    const { known, generated } = await localCredentials();
    const byKey = new Map(known.map((credential) => [credential.accessKeyId, credential]));
    const server = await startApiServer({
      port: options.port ?? 0,
      region,
      lookupCredentials: (accessKeyId) => byKey.get(accessKeyId),
      handler: (event, context) => handler(event, context),
    });
    stopping.push(() => server.close());
    options.log(`listening on ${server.url}`);

    return {
      endpoint: server.url,
      region,
      ...(generated
        ? { credentials: { accessKeyId: generated.accessKeyId, secretAccessKey: generated.secretAccessKey } }
        : {}),
      store,
      provider,
      runner,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Local clusters live as long as the control plane: none outlives it.
 * Terminating the processes first makes running workflows fail fast (and
 * roll back while the store is still up) instead of waiting out a timeout.
 */
async function stopClusters(provider: LocalProcessProvider, runner: LocalWorkflowRunner): Promise<void> {
  const records = await provider.registry.list();
  const live = records.filter((record) => record.state !== 'terminated').map((record) => record.id);
  if (live.length > 0) await provider.terminate(live);
  await Promise.race([
    runner.waitForIdle(),
    new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_MS).unref()),
  ]);
}
