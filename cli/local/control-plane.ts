/**
 * `bilbo local`: the whole control plane on one machine, with no AWS
 * account. The same API and step handlers as on AWS, behind a loopback
 * server that checks SigV4 like API Gateway; the state machines `cdk synth`
 * produces (generated at build time), run by an ASL interpreter; DynamoDB
 * Local; and Dask processes on 127.0.0.1 standing in for EC2 instances.
 *
 * Start-up runs DynamoDB Local's JVM first, the slowest part, and does
 * everything else while it boots.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import { DESTROY_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import type { Clock, ClusterStore, MachineProvider, ReadinessProbe } from '../../lambdas/domain/ports.ts';
import type { ProbeSettings } from '../../lambdas/domain/workflow/probe-ready.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import type { LocalProviderChoice, ProviderAdapters } from './provider-adapters.ts';
import type { LocalWorkflowRunner, RunnerTuning } from './workflow-runner.ts';

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
  /** Workflow runner tuning: faster waits, fault injection in tests. @default { waitOverrideMs: 100 } */
  runner?: RunnerTuning;
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
  const choice = options.provider ?? { kind: 'local' };
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

  options.log('starting DynamoDB Local');
  // On EC2, clusters outlive the control plane, and so must their records.
  const dynamoStarting = startDynamoDbLocal(
    choice.kind === 'ec2' ? { dbPath: await persistentDbPath(options.home) } : {},
  );
  dynamoStarting.then(
    (dynamo) => stopping.push(() => dynamo.stop()),
    () => {},
  );
  try {
    const [modules, adapters, credentials] = await Promise.all([
      loadModules(),
      options.providerAdapters ?? providerAdaptersFor(choice, region, options),
      import('./local-credentials.ts').then(({ localCredentials }) => localCredentials()),
    ]);
    const dynamo = await dynamoStarting;
    const store = await modules.localStore(dynamo.endpoint, region, TABLE_NAME);

    const deps = {
      store,
      provider: adapters.provider,
      catalog: adapters.catalog,
      preflight: adapters.preflight,
      secrets: adapters.secrets,
      probe: options.probe ?? new modules.HttpReadinessProbe(),
      clock: options.clock ?? modules.systemClock,
      sleep: options.sleep ?? modules.sleep,
      settings: { ...DEFAULT_PROBE, network: adapters.probeNetwork, ...options.probeSettings },
      newClusterId: modules.newClusterId,
      newSecret: modules.newSecret,
      destroyTimeoutSeconds: DESTROY_TIMEOUT_SECONDS.default,
    };
    const runner = new modules.LocalWorkflowRunner({
      waitOverrideMs: 100,
      ...options.runner,
      handlers: (task) => modules.stepHandler(task, deps),
    });
    stopping.push(() => adapters.stop(runner));
    const handler = modules.createApiHandler({ ...deps, workflows: runner });

    const byKey = new Map(credentials.known.map((credential) => [credential.accessKeyId, credential]));
    const server = await modules.startApiServer({
      port: options.port ?? 0,
      region,
      lookupCredentials: (accessKeyId) => byKey.get(accessKeyId),
      handler: (event, context) => handler(event, context),
    });
    stopping.push(() => server.close());
    options.log(`listening on ${server.url}`);

    const generated = credentials.generated;
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
    await dynamoStarting.catch(() => {});
    await stopAll();
    throw error;
  }
}

export type { LocalProviderChoice };

/** The control plane's code, imported while DynamoDB Local boots. */
async function loadModules() {
  const [store, probe, runtime, runner, steps, api, server] = await Promise.all([
    import('./local-store.ts'),
    import('../../lambdas/adapters/http/readiness-probe.ts'),
    import('../../lambdas/handlers/composition/runtime.ts'),
    import('./workflow-runner.ts'),
    import('../../lambdas/handlers/tasks/steps.ts'),
    import('../../lambdas/handlers/api/app.ts'),
    import('./api-server.ts'),
  ]);
  return {
    localStore: store.localStore,
    HttpReadinessProbe: probe.HttpReadinessProbe,
    systemClock: runtime.systemClock,
    sleep: runtime.sleep,
    newClusterId: runtime.newClusterId,
    newSecret: runtime.newSecret,
    LocalWorkflowRunner: runner.LocalWorkflowRunner,
    stepHandler: steps.stepHandler,
    createApiHandler: api.createApiHandler,
    startApiServer: server.startApiServer,
  };
}

async function providerAdaptersFor(
  choice: LocalProviderChoice,
  region: string,
  options: Pick<LocalControlPlaneOptions, 'home' | 'log'>,
): Promise<ProviderAdapters> {
  const { ec2Adapters, localAdapters } = await import('./provider-adapters.ts');
  return choice.kind === 'local' ? localAdapters(options) : ec2Adapters(choice, region, options.log);
}

async function persistentDbPath(home: string): Promise<string> {
  const path = join(home, 'local', 'dynamodb');
  await mkdir(path, { recursive: true });
  return path;
}
