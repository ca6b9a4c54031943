/**
 * The reaper's sweep over the workflow harness's world (an in-memory store,
 * the fake provider, a fake clock): a scheduler whose /metrics the test
 * sets (undefined: it does not answer), workflows that are only recorded,
 * and a seeded cluster brought to READY the way its create does.
 */
import { beforeEach } from 'vitest';
import { MemoryClusterStore } from '../../lambdas/adapters/memory/cluster-store.ts';
import { MemoryCommandStore } from '../../lambdas/adapters/memory/command-store.ts';
import type { HttpAnswer, ProbeRequest, ReadinessProbe } from '../../lambdas/domain/ports.ts';
import { REAPER_DEFAULTS } from '../../lambdas/domain/reaper/rules.ts';
import type { SweepDeps } from '../../lambdas/domain/use-cases/sweep-clusters.ts';
import { checkMachines } from '../../lambdas/domain/workflow/check-machines.ts';
import { recordReady } from '../../lambdas/domain/workflow/record-ready.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { RecordingWorkflows } from './api-harness.ts';
import { useWorkflowHarness, type WorkflowHarness } from './workflow-harness.ts';

/** What the scheduler's /metrics says: tasks processing, clients, task transitions so far. */
export interface SchedulerMetrics {
  clients: number;
  processing: number;
  transitions: number;
}

export interface SweepHarness {
  h: WorkflowHarness;
  /** Replaced before each test; undefined: the scheduler does not answer. */
  scheduler: SchedulerMetrics | undefined;
  /** Replaced before each test. */
  workflows: RecordingWorkflows;
  /** The command records the sweep reads; replaced before each test. */
  commands: MemoryCommandStore;
  deps(overrides?: Partial<SweepDeps>): SweepDeps;
  /** The seeded cluster launched and READY, its plan's limits as given, in a fresh store. */
  readyCluster(plan?: Partial<Cluster['plan']>): Promise<Cluster>;
}

export function useSweepHarness(): SweepHarness {
  const h = useWorkflowHarness();
  let commandIds = 0;
  const probe: ReadinessProbe = {
    async look(requests: Readonly<Record<string, ProbeRequest>>) {
      const answers: Record<string, HttpAnswer | undefined> = {};
      const metrics = sweep.scheduler;
      for (const name of Object.keys(requests)) {
        if (name !== 'metrics' || !metrics) continue;
        answers[name] = {
          status: 200,
          body: [
            '# HELP dask_scheduler_clients Number of clients connected',
            `dask_scheduler_clients ${metrics.clients}.0`,
            `dask_scheduler_tasks{state="processing"} ${metrics.processing}.0`,
            'dask_scheduler_tasks{state="waiting"} 0.0',
            `dask_scheduler_prefix_state_totals_total{state="memory",task_prefix_name="sum"} ${metrics.transitions}.0`,
          ].join('\n'),
        };
      }
      return answers;
    },
  };
  const sweep: SweepHarness = {
    h,
    scheduler: undefined,
    workflows: new RecordingWorkflows(),
    commands: new MemoryCommandStore(),
    deps: (overrides = {}) => ({
      ...h.deps(),
      workflows: sweep.workflows,
      commands: sweep.commands,
      destroyTimeoutSeconds: 600,
      access: { admins: [] },
      servicesProbe: { probe, network: 'private', secrets: h.deps().secrets },
      reaper: REAPER_DEFAULTS,
      newCommandId: () => `cmd-${(++commandIds).toString(16).padStart(16, '0')}`,
      sleep: async () => {},
      ...overrides,
    }),
    readyCluster: async (plan = {}) => {
      const { clock } = h.testStore;
      h.testStore = { store: new MemoryClusterStore({ clock }), clock };
      h.cluster = { ...h.cluster, plan: { ...h.cluster.plan, ...plan } };
      await h.testStore.store.create(h.cluster, { step: 'accepted', message: 'create requested' });
      await h.launchAll();
      await checkMachines({ clusterId: h.cluster.id, want: 'running' }, h.deps());
      await recordReady({ clusterId: h.cluster.id }, h.deps());
      return h.latest();
    },
  };
  beforeEach(() => {
    sweep.scheduler = { clients: 0, processing: 0, transitions: 5 };
    sweep.workflows = new RecordingWorkflows();
    sweep.commands = new MemoryCommandStore();
  });
  return sweep;
}
