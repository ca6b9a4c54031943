/**
 * A control plane that stopped (cleanly, or killed) left its clusters where
 * its workflows were: settle each one in an in-progress state, so that no
 * cluster stays CREATING or DESTROYING forever with machines running. Run
 * when nothing else drives them: at start-up, before the API answers.
 */
import type { Cluster, ClusterState } from '../../../schemas/types.generated.ts';
import type { SystemActor } from '../access.ts';
import type { CleanupDeps } from '../workflow/cleanup.ts';
import { rollbackCreate } from '../workflow/rollback-create.ts';
import {
  type DestroyClusterDeps,
  destroyCluster,
  destroyDeadline,
  startDestroyWorkflow,
} from './destroy-cluster.ts';

export type SettleDeps = CleanupDeps & DestroyClusterDeps;

export interface SettleOptions {
  /**
   * The machines ended with the control plane (local processes): clusters
   * that were READY or PAUSED are destroyed too, so their records say so.
   * EC2 instances outlive it, and such clusters are left as they are.
   */
  machinesEnded: boolean;
  /** Named in the events: `bilbo local`. */
  system: string;
}

export interface Settled {
  name: string;
  from: ClusterState;
  /** What was done, for the log. */
  action: string;
}

const STEP = 'control-plane';

export async function settleAbandonedClusters(deps: SettleDeps, options: SettleOptions): Promise<Settled[]> {
  const settled: Settled[] = [];
  for (const cluster of await deps.store.list()) {
    const action = await settleOne(cluster, deps, options).catch(
      (error: unknown) => `could not settle it: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (action) settled.push({ name: cluster.name, from: cluster.state, action });
  }
  return settled;
}

async function settleOne(
  cluster: Cluster,
  deps: SettleDeps,
  options: SettleOptions,
): Promise<string | undefined> {
  const reason = `control plane stopped during the ${ACTIVITY[cluster.state] ?? 'run'}`;
  switch (cluster.state) {
    case 'READY':
    case 'PAUSED': {
      if (!options.machinesEnded) return undefined;
      const actor: SystemActor = {
        system: options.system,
        reason: `${options.system} stopped, and the cluster's local processes ended with it`,
      };
      await destroyCluster(cluster.name, actor, deps);
      return 'destroyed: its processes had ended';
    }
    default:
      return settleInProgress(cluster, reason, deps, STEP);
  }
}

/**
 * Brings a cluster whose operation nothing drives any more to an end:
 * a create rolled back, a destroy started again, a pause or resume
 * FAILED with its machines stopped, a restart FAILED. `reason` says why,
 * in the events; `step` names who did it. Undefined for other states.
 */
export async function settleInProgress(
  cluster: Cluster,
  reason: string,
  deps: SettleDeps,
  step: string,
): Promise<string | undefined> {
  switch (cluster.state) {
    case 'CREATING':
      await rollbackCreate(
        { clusterId: cluster.id, failedStep: step, error: { Error: 'ControlPlaneStopped', Cause: reason } },
        deps,
      );
      return 'rolled back: FAILED, every instance terminated';
    case 'DESTROYING': {
      const requestedAt = deps.clock.now();
      await deps.store.update(cluster.id, {
        inStates: ['DESTROYING'],
        expectedVersion: cluster.version,
        changes: { deadline: destroyDeadline(requestedAt, deps) },
        event: { step: step, message: `${reason}; destroying it again` },
      });
      await startDestroyWorkflow({ ...cluster, version: cluster.version + 1 }, requestedAt, deps);
      return 'destroy resumed';
    }
    case 'PAUSING':
    case 'RESUMING': {
      // Stopped, not terminated: their volumes keep the cluster's work (issue 10 §5).
      const ids = (cluster.instances ?? []).map((instance) => instance.id);
      const stopped = await deps.provider.stop(ids).then(
        () => 'its instances were asked to stop, their volumes kept',
        (error: unknown) =>
          `its instances could not be stopped (${error instanceof Error ? error.message : String(error)})`,
      );
      await deps.store.transition(cluster.id, {
        name: cluster.name,
        from: [cluster.state],
        to: 'FAILED',
        expectedVersion: cluster.version,
        changes: { failure: { step: step, message: `${reason}; ${stopped}` } },
        event: { step: step, message: `${reason}: FAILED, ${stopped}; destroy it to clean up` },
      });
      return `FAILED, ${stopped}`;
    }
    case 'RESTARTING':
      await deps.store.transition(cluster.id, {
        name: cluster.name,
        from: [cluster.state],
        to: 'FAILED',
        expectedVersion: cluster.version,
        changes: { failure: { step: step, message: reason } },
        event: { step: step, message: `${reason}: FAILED; destroy it to clean up` },
      });
      return 'FAILED';
    default:
      return undefined;
  }
}

const ACTIVITY: Partial<Record<ClusterState, string>> = {
  CREATING: 'create',
  DESTROYING: 'destroy',
  PAUSING: 'pause',
  RESUMING: 'resume',
  RESTARTING: 'restart',
};
