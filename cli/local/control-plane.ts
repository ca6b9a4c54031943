/**
 * `bilbo local`: the whole control plane on one machine, with no AWS
 * account. The same API and task handlers as on AWS, behind a loopback
 * server that checks SigV4 like API Gateway; the synthesized state
 * machines run by an ASL interpreter; DynamoDB Local; and Dask processes
 * on 127.0.0.1 standing in for EC2 instances.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbClusterStore } from '../../lambdas/adapters/dynamodb/cluster-store.ts';
import { ensureTable } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { HttpReadinessProbe } from '../../lambdas/adapters/http/readiness-probe.ts';
import type { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import type { Clock, ClusterStore, MachineProvider, ReadinessProbe } from '../../lambdas/domain/ports.ts';
import type { ProbeSettings } from '../../lambdas/domain/workflow/probe-ready.ts';
import { startApiServer } from './api-server.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { localCredentials } from './local-credentials.ts';
import {
  ec2Adapters,
  type LocalProviderChoice,
  localAdapters,
  type ProviderAdapters,
} from './provider-adapters.ts';
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
  /** Where clusters run. @default { kind: 'local' } */
  provider?: LocalProviderChoice;
  /** Replaces the provider's adapters (tests: EC2 behind a mock). */
  providerAdapters?: ProviderAdapters;
  /** Replaces the HTTP readiness probe (tests whose machines have no real dashboard). */
  probe?: ReadinessProbe;
  /** Replace the clock and sleep of the use cases and steps (benchmarks simulating a slow boot). */
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Workflow runner options: faster waits, fault injection in tests. @default { waitOverrideMs: 100 } */
  runner?: LocalWorkflowRunnerOptions;
}

export interface LocalControlPlane {
  endpoint: string;
  region: string;
  /** Set when the caller had no AWS credentials and a key pair was made for this run. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  store: ClusterStore;
  machines: MachineProvider;
  /** The local processes standing in for instances (local provider only). */
  processes?: LocalProcessProvider;
  runner: LocalWorkflowRunner;
  /** Stops the server, the workflows, every cluster process and DynamoDB Local. */
  stop(): Promise<void>;
}

const TABLE_NAME = 'bilbo-local';
const DEFAULT_PROBE: Omit<ProbeSettings, 'network'> = { budgetMs: 10_000, intervalMs: 100 };

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
    const choice = options.provider ?? { kind: 'local' };
    const adapters =
      options.providerAdapters ??
      (choice.kind === 'local'
        ? await localAdapters(options)
        : await ec2Adapters(choice, region, options.log));

    options.log('starting DynamoDB Local');
    // On EC2, clusters outlive the control plane, and so must their records.
    const dynamo = await startDynamoDbLocal(
      choice.kind === 'ec2' ? { dbPath: await persistentDbPath(options.home) } : {},
    );
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
    stopping.push(() => adapters.stop(runner));

    const { provideDependencies } = await import('../../lambdas/handlers/composition.ts');
    provideDependencies({
      store,
      provider: adapters.provider,
      catalog: adapters.catalog,
      preflight: adapters.preflight,
      probe: options.probe ?? new HttpReadinessProbe(),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      secrets: adapters.secrets,
      workflows: runner,
      probeSettings: { ...DEFAULT_PROBE, network: adapters.probeNetwork, ...options.probeSettings },
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
      machines: adapters.provider,
      ...(adapters.processes ? { processes: adapters.processes } : {}),
      runner,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export type { LocalProviderChoice };

async function persistentDbPath(home: string): Promise<string> {
  const path = join(home, 'local', 'dynamodb');
  await mkdir(path, { recursive: true });
  return path;
}
