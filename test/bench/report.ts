/** Turns the runs into the one JSON object `npm run bench` prints. */
import type { BenchContext } from './context.ts';
import type { RunResult } from './create-run.ts';
import { CLIENT_POLL_MS, DASHBOARD_POLL_MS, STORE_POLL_MS } from './observers.ts';
import type { LeftoverReport } from './processes.ts';
import type { StartupReport } from './startup.ts';
import { type Summary, summarize } from './timing.ts';

export interface ReportInput {
  profile: string;
  clusterShape: string;
  controlPlane: Record<string, unknown>;
  runs: RunResult[];
  startup: StartupReport;
  context: BenchContext;
  leftovers: LeftoverReport;
}

export function buildReport(input: ReportInput): Record<string, unknown> {
  const { runs } = input;
  const of = (pick: (run: RunResult) => number): Summary => summarize(runs.map(pick));
  return {
    benchmark: 'bilbo local: create to READY through the signed API',
    profile: input.profile,
    cluster: input.clusterShape,
    runs: runs.length,
    create_to_ready_ms: of((run) => run.create_to_ready_ms),
    dask_wait_ms: of((run) => run.dask_wait_ms),
    dask_wait_from_spawn_ms: of((run) => run.dask_wait_from_spawn_ms),
    control_plane_overhead_ms: of((run) => run.control_plane_overhead_ms),
    detection_latency_ms: {
      to_record_ready_at: of((run) => run.record_ready_after_observed_ms),
      to_client_ready: of((run) => run.client_ready_after_observed_ms),
    },
    state_transitions_per_create: of((run) => run.state_transitions_create),
    state_transitions_per_destroy: of((run) => run.state_transitions_destroy),
    destroy_to_destroyed_ms: of((run) => run.destroy_to_destroyed_ms),
    version_startup_ms: input.startup,
    milestones_ms_after_post: runs.map((run) => run.milestones_ms),
    processes_at_ready: runs.map((run) => run.processes_at_ready),
    leftover_processes: input.leftovers.ours.length,
    ...(input.leftovers.ours.length > 0 ? { leftover_commands: input.leftovers.ours.map(describe) } : {}),
    other_sessions_new_processes: input.leftovers.others.length,
    method: {
      create_to_ready: `POST /clusters sent -> first GET /clusters/{name} answering READY (GET every ${CLIENT_POLL_MS} ms)`,
      dask_wait: `store poller (findByName every ${STORE_POLL_MS} ms) first sees instances -> bench's own dashboard poller (every ${DASHBOARD_POLL_MS} ms) sees /health 200 and every wanted worker in /json/identity.json`,
      dask_wait_from_spawn: "as dask_wait, but from the provider's own launchedAt of the first process",
      control_plane_overhead: 'create_to_ready - dask_wait, per run',
      detection_latency: "bench's dashboard poller sees ready -> record's readyAt, and -> client sees READY",
      poll_interval: 'counted from the end of one look to the start of the next',
      control_plane: input.controlPlane,
    },
    context: input.context,
  };
}

function describe(info: { pid: number; command: string }): string {
  return `${info.pid} ${info.command}`;
}
