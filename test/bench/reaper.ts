/**
 * The reaper's sweep at scale: `clusters` READY clusters in DynamoDB Local
 * (the real store, the real SDK), services answering after `probeLatencyMs`,
 * machines all running. Two sweeps: the first stamps every cluster idle
 * (and refreshes its health), the second finds nothing new to write. For
 * each: its duration and DynamoDB requests; and the process's peak RSS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../../cli/local/dynamodb-local.ts';
import { DynamoDbClusterStore } from '../../lambdas/adapters/dynamodb/cluster-store.ts';
import { DynamoDbCommandStore } from '../../lambdas/adapters/dynamodb/command-store.ts';
import { ensureTable } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { LocalPreflight } from '../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import { mapBounded } from '../../lambdas/domain/bounded.ts';
import type { Machine, MachineProvider, ReadinessProbe } from '../../lambdas/domain/ports.ts';
import { REAPER_DEFAULTS } from '../../lambdas/domain/reaper/rules.ts';
import { newClusterRecord } from '../../lambdas/domain/use-cases/create-cluster.ts';
import { prepareCluster } from '../../lambdas/domain/use-cases/prepare-cluster.ts';
import { sweepClusters } from '../../lambdas/domain/use-cases/sweep-clusters.ts';
import { systemClock } from '../../lambdas/handlers/composition/runtime.ts';
import { DASK_PROGRAMS } from '../support/dask-launch.ts';

export interface ReaperBenchOptions {
  clusters: number;
  probeLatencyMs: number;
}

const METRICS = [
  'dask_scheduler_clients 0.0',
  'dask_scheduler_tasks{state="processing"} 0.0',
  'dask_scheduler_prefix_state_totals_total{state="memory",task_prefix_name="sum"} 3.0',
].join('\n');

/** Machines of clusters the table does not know, for the orphan pass to find and remove. */
const ORPHANS = 100;

export async function benchReaper(options: ReaperBenchOptions, log: (line: string) => void) {
  const dynamo = await startDynamoDbLocal({ log });
  /** This sweep's DynamoDB requests, by operation (Query, GetItem, UpdateItem, TransactWriteItems…). */
  let requests: Record<string, number> = {};
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  try {
    const raw = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    raw.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
        requests[operation] = (requests[operation] ?? 0) + 1;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'countRequests' },
    );
    const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
    const tableName = 'bilbo-bench-reaper';
    await ensureTable(client, tableName);
    const store = new DynamoDbClusterStore({ client, tableName, clock: systemClock });
    const commands = new DynamoDbCommandStore({ client, tableName });

    log(`reaper: recording ${options.clusters} READY clusters`);
    const { plan } = await prepareCluster(
      { name: 'bench', profile: { dask: { worker: { count: 1 } }, idle_timeout: 3600 } },
      {
        catalog: new LocalMachineCatalog({ facts: { vcpus: 1, threadsPerCore: 1, memoryMiB: 4096 } }),
        preflight: new LocalPreflight(DASK_PROGRAMS),
      },
    );
    const ids = Array.from({ length: options.clusters }, (_, i) => i);
    await mapBounded(ids, 32, async (i) => {
      const name = `bench-${i}`;
      const cluster = newClusterRecord({
        id: `c-${i.toString(16).padStart(16, '0')}`,
        name,
        owner: 'local:bench',
        plan: { ...plan, cluster: name },
        now: systemClock.now(),
      });
      await store.create(cluster, { step: 'accepted', message: 'create requested' });
      await store.transition(cluster.id, {
        name,
        from: ['CREATING'],
        to: 'READY',
        changes: {
          roleInstances: {
            scheduler: [
              { id: `i-${i}-s`, role: 'scheduler', index: 0, privateIp: '10.0.0.1', state: 'running' },
            ],
            worker: [{ id: `i-${i}-w`, role: 'worker', index: 0, privateIp: '10.0.0.2', state: 'running' }],
          },
          dashboardUrl: 'http://10.0.0.1:8787',
          privateDashboardUrl: 'http://10.0.0.1:8787',
          schedulerAddress: 'tcp://10.0.0.1:8786',
        },
        event: { step: 'ready', message: 'READY' },
      });
    });

    const probe: ReadinessProbe = {
      async look(requested) {
        await new Promise((resolve) => setTimeout(resolve, options.probeLatencyMs));
        return Object.fromEntries(
          Object.entries(requested).map(([name, request]) => {
            const url = typeof request === 'string' ? request : request.url;
            const body = url.endsWith('/metrics')
              ? METRICS
              : url.endsWith('/health')
                ? 'ok'
                : JSON.stringify({ workers: { a: {} } });
            return [name, { status: 200, body }];
          }),
        );
      },
    };
    // Every cluster's two machines, launched an hour ago, and ORPHANS more whose cluster the
    // table does not know: the orphan pass reads those clusters' records and terminates them.
    const launchedAt = new Date(Date.now() - 3_600_000).toISOString();
    const managed = [
      ...ids.flatMap((i) =>
        (['s', 'w'] as const).map((suffix) => ({
          id: `i-${i}-${suffix}`,
          clusterId: `c-${i.toString(16).padStart(16, '0')}`,
          role: suffix === 's' ? 'scheduler' : 'worker',
          state: 'running',
          launchedAt,
        })),
      ),
      ...Array.from({ length: ORPHANS }, (_, i) => ({
        id: `i-orphan-${i}`,
        clusterId: `c-${(options.clusters + i).toString(16).padStart(16, '0')}`,
        role: 'worker',
        state: 'running',
        launchedAt,
      })),
    ];
    const provider = {
      name: 'bench',
      findManaged: async () => managed,
      terminate: async () => {},
      describe: async (machineIds: readonly string[]) =>
        machineIds.map(
          (id): Machine => ({
            id,
            clusterId: '',
            role: id.endsWith('-s') ? 'scheduler' : 'worker',
            index: 0,
            state: 'running',
            privateIp: '10.0.0.1',
          }),
        ),
    } as unknown as MachineProvider;
    const deps = {
      store,
      commands,
      provider,
      secrets: new MemorySecretStore(),
      clock: systemClock,
      workflows: { start: async () => 'arn', isRunning: async () => true, describe: async () => undefined },
      destroyTimeoutSeconds: 600,
      access: { admins: [] },
      servicesProbe: { probe, network: 'private' as const, secrets: new MemorySecretStore() },
      reaper: REAPER_DEFAULTS,
      remote: undefined as never,
      newCommandId: () => 'cmd-0',
    };
    const sweeps = [];
    for (const which of ['first', 'second']) {
      log(`reaper: ${which} sweep over ${options.clusters} clusters`);
      requests = {};
      peakRss = process.memoryUsage().rss;
      const started = performance.now();
      const report = await sweepClusters(deps);
      if (report.errors > 0) {
        const failures = report.actions.filter((action) => action.action === 'error').slice(0, 3);
        throw new Error(`the ${which} sweep had ${report.errors} errors: ${JSON.stringify(failures)}`);
      }
      const sweep = {
        sweep: which,
        duration_ms: Math.round(performance.now() - started),
        dynamodb_requests: Object.values(requests).reduce((sum, count) => sum + count, 0),
        dynamodb_requests_by_operation: Object.fromEntries(Object.entries(requests).sort()),
        peak_rss_mib: Math.round(peakRss / 1024 / 1024),
        checked: report.checked,
        idle: report.idle,
        orphans_removed: report.orphansRemoved,
      };
      log(
        `reaper: ${which} sweep: ${(sweep.duration_ms / 1000).toFixed(1)} s, ${sweep.dynamodb_requests} DynamoDB requests ` +
          `(${Object.entries(sweep.dynamodb_requests_by_operation)
            .map(([operation, count]) => `${operation} ${count}`)
            .join(', ')}), peak RSS ${sweep.peak_rss_mib} MiB`,
      );
      sweeps.push(sweep);
    }
    return { clusters: options.clusters, probe_latency_ms: options.probeLatencyMs, sweeps };
  } finally {
    clearInterval(sampler);
    await dynamo.stop();
  }
}
