/**
 * `bilbo local`: the whole control plane on one machine, with no AWS
 * account. The same API and step handlers as on AWS, behind a loopback
 * server that checks SigV4 like API Gateway; the state machines `cdk synth`
 * produces (generated at build time), run by an ASL interpreter; DynamoDB
 * Local; and Dask processes on 127.0.0.1 standing in for EC2 instances.
 *
 * Start-up claims the home (one plane per BILBO_HOME) and binds the port
 * first, so either refusal comes at once; then runs DynamoDB Local's JVM,
 * the slowest part, doing everything else while it boots; then settles the
 * clusters an earlier plane left in progress, before the API answers.
 *
 * The records live in $BILBO_HOME for both providers. EC2 instances
 * outlive the plane; local processes end with it (even when it is killed:
 * they are tied to it), and their clusters are recorded DESTROYED.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import { DESTROY_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import type { Clock, ClusterStore, MachineProvider, ReadinessProbe } from '../../lambdas/domain/ports.ts';
import { REAPER_DEFAULTS, type ReaperSettings } from '../../lambdas/domain/reaper/rules.ts';
import {
  type SettleDeps,
  settleAbandonedClusters,
} from '../../lambdas/domain/use-cases/settle-abandoned-clusters.ts';
import type { ProbeSettings } from '../../lambdas/domain/workflow/probe-ready.ts';
import { PortBusyError } from '../errors.ts';
import type { RunningApiServer } from './api-server.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import type { LocalUser } from './local-credentials.ts';
import { claimHome } from './plane-claim.ts';
import type { LocalProviderChoice, ProviderAdapters } from './provider-adapters.ts';
import type { LocalWorkflowRunner, RunnerTuning } from './workflow-runner.ts';

export interface LocalControlPlaneOptions {
  home: string;
  log: (line: string) => void;
  /** @default a free port */
  port?: number;
  /** @default 'us-east-1' */
  region?: string;
  /** More local identities, each with a key pair made for this run (`bilbo local --users alice,bob`). */
  users?: readonly string[];
  /** Principals that may change any cluster: IAM ARNs, or local users' names. */
  admins?: readonly string[];
  /** Faster polling for tests and benchmarks. */
  probeSettings?: Partial<ProbeSettings>;
  /** Where clusters run. @default { kind: 'local' } */
  provider?: LocalProviderChoice;
  /** Replaces the provider's adapters (tests: EC2 behind a mock). */
  providerAdapters?: ProviderAdapters;
  /** Replaces the HTTP readiness probe (tests whose machines have no real dashboard). */
  probe?: ReadinessProbe;
  /** How long a look at a READY cluster's health is trusted by reads. @default HEALTH_CACHE_MS */
  healthCacheMs?: number;
  /** Replace the clock (of the use cases, the steps and the store's stamps) and the sleep: benchmarks simulating a slow boot, tests skipping ahead. */
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Workflow runner tuning: faster waits, fault injection in tests. @default { waitOverrideMs: 100 } */
  runner?: RunnerTuning;
  /** How often the reaper sweeps (`bilbo local --reap-every`). @default REAP_EVERY_MS */
  reapEveryMs?: number;
  /** The deployment's reaper settings. @default REAPER_DEFAULTS */
  reaper?: Partial<ReaperSettings>;
}

/** The local reaper's period by default: a minute. */
export const REAP_EVERY_MS = 60_000;

export interface LocalControlPlane {
  endpoint: string;
  region: string;
  /** Set when the caller had no AWS credentials and a key pair was made for this run. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The identities `users` asked for, with their key pairs. */
  users: LocalUser[];
  store: ClusterStore;
  machines: MachineProvider;
  /** The local processes standing in for instances (local provider only). */
  processes?: LocalProcessProvider;
  runner: LocalWorkflowRunner;
  /** Stops the server, the workflows, every cluster process and DynamoDB Local. */
  stop(): Promise<void>;
}

const TABLE_NAME = 'bilbo-local';
const SYSTEM = 'bilbo local';
const DEFAULT_PROBE: Omit<ProbeSettings, 'network'> = { budgetMs: 10_000, intervalMs: 100 };
/** How long stopping waits for the workflows to record their end. */
const IDLE_WAIT_MS = 20_000;

export async function startLocalControlPlane(options: LocalControlPlaneOptions): Promise<LocalControlPlane> {
  const region = options.region ?? 'us-east-1';
  const choice = options.provider ?? { kind: 'local' };
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const stopping: Array<() => Promise<void>> = [];
  let server: RunningApiServer | undefined;
  let stopped: Promise<void> | undefined;
  const stopAll = () => {
    stopped ??= (async () => {
      const steps = [...(server ? [() => server!.close()] : []), ...[...stopping].reverse()];
      for (const stop of steps) await stop().catch((error) => options.log(`while stopping: ${error}`));
    })();
    return stopped;
  };

  const claim = await claimHome(options.home);
  stopping.push(() => claim.release());
  let app: App | undefined;
  // Requests wait for this: the port is bound long before the API can answer.
  let started: () => void = () => {};
  let failed: (error: unknown) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  ready.catch(() => {});
  try {
    const { startApiServer } = await import('./api-server.ts');
    server = await startApiServer({
      port: options.port ?? 0,
      region,
      ready,
      lookupCredentials: (accessKeyId) => app?.credentials.get(accessKeyId),
      handler: (event, context) => (app as App).handler(event, context),
    }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EADDRINUSE' ? new PortBusyError(options.port ?? 0, { cause: error }) : error;
    });

    options.log('starting DynamoDB Local');
    const local = join(options.home, 'local');
    await mkdir(local, { recursive: true });
    const dynamoStarting = startDynamoDbLocal({
      dbPath: join(local, 'dynamodb'),
      leaseFile: join(local, 'dynamodb-local.json'),
      log: options.log,
    });
    dynamoStarting.then(
      (dynamo) => stopping.push(() => dynamo.stop()),
      () => {},
    );
    try {
      const [modules, adapters, credentials] = await Promise.all([
        loadModules(),
        options.providerAdapters ?? providerAdaptersFor(choice, region, options),
        import('./local-credentials.ts').then(({ localCredentials }) => localCredentials(options.users)),
      ]);
      const dynamo = await dynamoStarting;
      const clock = options.clock ?? modules.systemClock;
      const { store, commands } = await modules.localStore(dynamo.endpoint, region, TABLE_NAME, clock);

      const probe = options.probe ?? new modules.HttpReadinessProbe();
      const deps = {
        store,
        provider: adapters.provider,
        catalog: adapters.catalog,
        preflight: adapters.preflight,
        secrets: adapters.secrets,
        services: adapters.services,
        probe,
        clock,
        sleep: options.sleep ?? modules.sleep,
        settings: { ...DEFAULT_PROBE, network: adapters.probeNetwork, ...options.probeSettings },
        newClusterId: modules.newClusterId,
        newSecret: modules.newSecret,
        commands,
        remote: adapters.remote,
        newCommandId: modules.newCommandId,
        destroyTimeoutSeconds: DESTROY_TIMEOUT_SECONDS.default,
        access: { admins: (options.admins ?? []).map(modules.localPrincipal) },
        // The plane reaches the services as the readiness probe does: reads look at them too.
        servicesProbe: { probe, network: adapters.probeNetwork, secrets: adapters.secrets },
        ...(options.healthCacheMs === undefined ? {} : { healthCacheMs: options.healthCacheMs }),
      };
      const reaperSettings = { ...REAPER_DEFAULTS, ...options.reaper };
      // The steps start workflows too (the sweep starts destroys and pauses): through this runner.
      const runner: LocalWorkflowRunner = new modules.LocalWorkflowRunner({
        waitOverrideMs: 100,
        ...options.runner,
        handlers: (task) => modules.stepHandler(task, { ...deps, workflows: runner, reaper: reaperSettings }),
      });
      const clusters: SettleDeps = { ...deps, workflows: runner };
      stopping.push(() => stopClusters(adapters, runner, clusters, options.log));
      const sweep = modules.sweepWorkflow(runner, { newSweepId: modules.newSweepId, requestedBy: SYSTEM });

      for (const settled of await settleAbandonedClusters(clusters, {
        machinesEnded: !adapters.machinesOutliveThePlane,
        system: SYSTEM,
      })) {
        options.log(
          `cluster ${settled.name} was ${settled.from} when the last plane stopped: ${settled.action}`,
        );
      }

      // Stopped before the clusters are (steps run in reverse), so no sweep races the plane's own settling.
      const reaper = modules.startReaperLoop({
        everyMs: options.reapEveryMs ?? REAP_EVERY_MS,
        sweep,
        report: (outcome) => {
          if (outcome instanceof Error) options.log(`reaper: the sweep failed: ${outcome.message}`);
          else if (outcome.actions.length > 0) options.log(modules.sweepSummary(outcome));
        },
      });
      stopping.push(() => reaper.stop());

      app = {
        handler: modules.createApiHandler({ ...deps, workflows: runner, newSweepId: modules.newSweepId }),
        credentials: new Map(credentials.known.map((credential) => [credential.accessKeyId, credential])),
      };
      started();
      await claim.announce(server.url);
      options.log(`listening on ${server.url}`);

      const generated = credentials.generated;
      return {
        endpoint: server.url,
        region,
        ...(generated
          ? {
              credentials: { accessKeyId: generated.accessKeyId, secretAccessKey: generated.secretAccessKey },
            }
          : {}),
        users: credentials.users,
        store,
        machines: adapters.provider,
        ...(adapters.processes ? { processes: adapters.processes } : {}),
        runner,
        stop: stopAll,
      };
    } finally {
      await dynamoStarting.catch(() => {});
    }
  } catch (error) {
    failed(error);
    await stopAll();
    throw error;
  }
}

interface App {
  handler: ReturnType<Awaited<ReturnType<typeof loadModules>>['createApiHandler']>;
  credentials: Map<string, { secretAccessKey: string; principal: string }>;
}

/**
 * What stopping does to the clusters. EC2: running workflows get a while
 * to finish; what is still in progress then is settled at the next start.
 * Local: every process ends now, and the records say so (creates in
 * progress FAILED, the others DESTROYED), before the store stops.
 */
async function stopClusters(
  adapters: ProviderAdapters,
  runner: LocalWorkflowRunner,
  clusters: SettleDeps,
  log: (line: string) => void,
): Promise<void> {
  if (adapters.machinesOutliveThePlane) {
    if (runner.executions().some((execution) => execution.status === 'RUNNING')) {
      log('waiting for running workflows to finish');
    }
    await waitForWorkflows(runner);
    runner.abortAll();
    return;
  }
  runner.abortAll();
  if (adapters.processes) {
    const live = (await adapters.processes.registry.list()).filter((record) => record.state !== 'terminated');
    if (live.length > 0) await adapters.processes.terminate(live.map((record) => record.id));
  }
  await settleAbandonedClusters(clusters, { machinesEnded: true, system: SYSTEM });
  await waitForWorkflows(runner);
}

async function waitForWorkflows(runner: LocalWorkflowRunner): Promise<void> {
  await Promise.race([
    runner.waitForIdle(),
    new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_MS).unref()),
  ]);
}

export type { LocalProviderChoice };

/** The control plane's code, imported while DynamoDB Local boots. */
async function loadModules() {
  const [store, probe, runtime, runner, steps, api, credentials, reaperLoop] = await Promise.all([
    import('./local-store.ts'),
    import('../../lambdas/adapters/http/readiness-probe.ts'),
    import('../../lambdas/handlers/composition/runtime.ts'),
    import('./workflow-runner.ts'),
    import('../../lambdas/handlers/tasks/steps.ts'),
    import('../../lambdas/handlers/api/app.ts'),
    import('./local-credentials.ts'),
    import('./reaper-loop.ts'),
  ]);
  return {
    localStore: store.localStore,
    HttpReadinessProbe: probe.HttpReadinessProbe,
    systemClock: runtime.systemClock,
    sleep: runtime.sleep,
    newClusterId: runtime.newClusterId,
    newSecret: runtime.newSecret,
    newCommandId: runtime.newCommandId,
    newSweepId: runtime.newSweepId,
    LocalWorkflowRunner: runner.LocalWorkflowRunner,
    stepHandler: steps.stepHandler,
    createApiHandler: api.createApiHandler,
    localPrincipal: credentials.localPrincipal,
    sweepWorkflow: reaperLoop.sweepWorkflow,
    startReaperLoop: reaperLoop.startReaperLoop,
    sweepSummary: reaperLoop.sweepSummary,
  };
}

async function providerAdaptersFor(
  choice: LocalProviderChoice,
  region: string,
  options: Pick<LocalControlPlaneOptions, 'home' | 'log'>,
): Promise<ProviderAdapters> {
  const { ec2Adapters, localAdapters } = await import('./provider-adapters.ts');
  if (choice.kind === 'local') return localAdapters(options);
  const { localDeploymentId } = await import('./deployment-id.ts');
  return ec2Adapters(choice, { region, deploymentId: await localDeploymentId(options.home) }, options.log);
}
