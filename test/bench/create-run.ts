/**
 * One benchmark run: create a cluster through the signed API, watch it
 * become ready three ways (the store, the dashboard itself, the API as a
 * client), then destroy it and wait for DESTROYED.
 */
import type { BilboApi } from '../../cli/api/client.ts';
import type { LocalControlPlane } from '../../cli/local/control-plane.ts';
import type { ExecutionSummary } from '../../cli/local/workflow-runner.ts';
import type { Cluster, CreateClusterRequest } from '../../schemas/types.generated.ts';
import { watchClient, watchDashboard, watchLaunch } from './observers.ts';
import { countOurs, type ProcessKind } from './processes.ts';
import { now, pollUntil } from './timing.ts';

export interface RunDeps {
  plane: LocalControlPlane;
  api: BilboApi;
  /** This run's process marker (see processes.ts). */
  marker: string;
  log: (line: string) => void;
}

/** Milliseconds after the POST was sent. */
export interface Milestones {
  post_answered: number;
  /** The provider's own spawn time of the first process (its registry's launchedAt). */
  first_spawn: number;
  /** The store poller first saw `instances` (and the dashboard URL) on the record. */
  instances_seen: number;
  /** The benchmark's poller first got /health 200. */
  dashboard_health: number;
  /** The record's dashboardAnsweredAt: when the workflow's probe saw /health. */
  record_dashboard_answered: number;
  /** The benchmark's poller saw /health 200 and every wanted worker in identity.json. */
  observed_ready: number;
  /** The record's readyAt. */
  record_ready: number;
  /** The client poller got READY from GET /clusters/{name}. */
  client_ready: number;
}

export interface RunResult {
  name: string;
  create_to_ready_ms: number;
  dask_wait_ms: number;
  /** The same wait counted from the provider's spawn of the first process instead. */
  dask_wait_from_spawn_ms: number;
  control_plane_overhead_ms: number;
  record_ready_after_observed_ms: number;
  client_ready_after_observed_ms: number;
  state_transitions_create: number;
  state_transitions_destroy: number;
  destroy_to_destroyed_ms: number;
  milestones_ms: Milestones;
  processes_at_ready: Record<ProcessKind, number>;
}

const EXECUTION_END_TIMEOUT_MS = 30_000;
const DESTROY_TIMEOUT_MS = 60_000;
/** Beyond the profile's own ready_timeout, so the workflow's timeout shows up first. */
const READY_MARGIN_MS = 30_000;

/** Creates and destroys the cluster `request` describes, measuring both. */
export async function benchmarkRun(deps: RunDeps, request: CreateClusterRequest): Promise<RunResult> {
  const name = request.name;
  const readyTimeoutMs = (request.profile.ready_timeout ?? 120) * 1000 + READY_MARGIN_MS;
  const create = await measureCreate(deps, request, readyTimeoutMs);
  const destroy = await measureDestroy(deps, create.cluster);
  const t0 = create.t0;
  const since = (at: number) => at - t0;
  const createToReady = since(create.clientReadyAt);
  const daskWait = create.dashboard.readyAt - create.instancesSeenAt;
  return {
    name,
    create_to_ready_ms: createToReady,
    dask_wait_ms: daskWait,
    dask_wait_from_spawn_ms: create.dashboard.readyAt - create.firstSpawnAt,
    control_plane_overhead_ms: createToReady - daskWait,
    record_ready_after_observed_ms: Date.parse(create.cluster.readyAt ?? '') - create.dashboard.readyAt,
    client_ready_after_observed_ms: create.clientReadyAt - create.dashboard.readyAt,
    state_transitions_create: create.stateTransitions,
    state_transitions_destroy: destroy.stateTransitions,
    destroy_to_destroyed_ms: destroy.elapsedMs,
    milestones_ms: {
      post_answered: since(create.postAnsweredAt),
      first_spawn: since(create.firstSpawnAt),
      instances_seen: since(create.instancesSeenAt),
      dashboard_health: since(create.dashboard.healthAt),
      record_dashboard_answered: since(Date.parse(create.cluster.dashboardAnsweredAt ?? '')),
      observed_ready: since(create.dashboard.readyAt),
      record_ready: since(Date.parse(create.cluster.readyAt ?? '')),
      client_ready: createToReady,
    },
    processes_at_ready: create.processesAtReady,
  };
}

interface CreateObservation {
  t0: number;
  postAnsweredAt: number;
  instancesSeenAt: number;
  firstSpawnAt: number;
  dashboard: { healthAt: number; readyAt: number };
  clientReadyAt: number;
  cluster: Cluster;
  stateTransitions: number;
  processesAtReady: Record<ProcessKind, number>;
}

async function measureCreate(
  deps: RunDeps,
  request: CreateClusterRequest,
  timeoutMs: number,
): Promise<CreateObservation> {
  const abort = new AbortController();
  const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]);
  const name = request.name;

  // The store poller starts before the POST: the workflow may launch before the answer arrives.
  const t0 = now();
  const launch = watchLaunch(deps.plane.store, name, signal);
  const dashboard = launch.then(({ value }) =>
    watchDashboard(value.dashboardUrl, value.plan.wantedWorkers, signal),
  );
  const client = (async () => {
    await deps.api.createCluster(request);
    const postAnsweredAt = now();
    return { postAnsweredAt, ready: await watchClient(deps.api, name, 'READY', signal) };
  })();

  let outcome: [Awaited<typeof launch>, Awaited<typeof dashboard>, Awaited<typeof client>];
  try {
    outcome = await Promise.all([launch, dashboard, client]);
  } catch (error) {
    abort.abort(error);
    await Promise.allSettled([launch, dashboard, client]);
    throw error;
  }
  const processesAtReady = countOurs(deps.marker);
  const [seenLaunch, seenDashboard, { postAnsweredAt, ready }] = outcome;
  const cluster = ready.value;
  deps.log(`${name}: READY after ${ready.at - t0} ms (${seenDashboard.workers} workers)`);
  return {
    t0,
    postAnsweredAt,
    instancesSeenAt: seenLaunch.at,
    firstSpawnAt: await firstSpawn(deps.plane, cluster.id),
    dashboard: seenDashboard,
    clientReadyAt: ready.at,
    cluster,
    stateTransitions: await transitionsOf(deps.plane, 'create', cluster.id),
    processesAtReady,
  };
}

async function measureDestroy(
  deps: RunDeps,
  cluster: Cluster,
): Promise<{ elapsedMs: number; stateTransitions: number }> {
  const started = now();
  await deps.api.destroyCluster(cluster.name);
  const destroyed = await watchClient(
    deps.api,
    cluster.name,
    'DESTROYED',
    AbortSignal.timeout(DESTROY_TIMEOUT_MS),
  );
  deps.log(`${cluster.name}: DESTROYED after ${destroyed.at - started} ms`);
  return {
    elapsedMs: destroyed.at - started,
    stateTransitions: await transitionsOf(deps.plane, 'destroy', cluster.id),
  };
}

/** The earliest launchedAt among the cluster's processes, as the provider recorded it at spawn. */
async function firstSpawn(plane: LocalControlPlane, clusterId: string): Promise<number> {
  const records = (await plane.processes!.registry.list()).filter((record) => record.clusterId === clusterId);
  return Math.min(...records.map((record) => Date.parse(record.launchedAt)));
}

/** States the cluster's execution of `workflow` entered, once that execution has ended. */
async function transitionsOf(
  plane: LocalControlPlane,
  workflow: ExecutionSummary['workflow'],
  clusterId: string,
): Promise<number> {
  const { value: executionArn } = await pollUntil(
    async () => {
      const execution = plane.runner
        .executions()
        .find(
          (summary) =>
            summary.workflow === workflow &&
            (summary.input as { clusterId?: string }).clusterId === clusterId &&
            summary.status !== 'RUNNING',
        );
      return execution?.executionArn;
    },
    10,
    AbortSignal.timeout(EXECUTION_END_TIMEOUT_MS),
  );
  return plane.runner.stateTransitions(executionArn);
}
