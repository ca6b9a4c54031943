/**
 * The changes people ask for (destroy, restart, pause, resume) read the
 * cluster and write on the version they read. A write in between — a
 * reader's health refresh, a workflow's progress — must not turn into a
 * 409 for the person: the change is made again on a fresh read.
 */
import { describe, expect, it } from 'vitest';
import { ConcurrentUpdateError } from '../../../lambdas/domain/errors.ts';
import type { ClusterStore } from '../../../lambdas/domain/ports.ts';
import { destroyCluster } from '../../../lambdas/domain/use-cases/destroy-cluster.ts';
import { pauseCluster, resumeCluster } from '../../../lambdas/domain/use-cases/pause-cluster.ts';
import { restartCluster } from '../../../lambdas/domain/use-cases/restart-cluster.ts';
import { recordReady } from '../../../lambdas/domain/workflow/record-ready.ts';
import { ADMIN_ROLE_ARN, ALICE_ARN } from '../../support/api-events.ts';
import { RecordingWorkflows } from '../../support/api-harness.ts';
import { useWorkflowHarness } from '../../support/workflow-harness.ts';

const h = useWorkflowHarness();

/** The store, where another writer touches the cluster just before each of the first `times` transitions. */
function withWritesInBetween(times: number): ClusterStore {
  const store = h.testStore.store;
  let left = times;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'transition') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<ClusterStore['transition']>) => {
        if (left-- > 0) await target.update(args[0], { changes: { workersJoined: 2 } });
        return target.transition(...args);
      };
    },
  });
}

function deps(store: ClusterStore, workflows = new RecordingWorkflows()) {
  return {
    store,
    workflows,
    clock: h.testStore.clock,
    access: { admins: [ADMIN_ROLE_ARN] },
    destroyTimeoutSeconds: 600,
  };
}

async function ready(): Promise<void> {
  await h.launchAll();
  await recordReady({ clusterId: h.cluster.id }, h.deps());
}

describe('a change asked while another write lands', () => {
  it.each([
    ['destroy', destroyCluster, 'DESTROYING'],
    ['restart', restartCluster, 'RESTARTING'],
    ['pause', pauseCluster, 'PAUSING'],
  ] as const)('%s is made on a fresh read, and starts its workflow once', async (_what, change, state) => {
    await ready();
    const workflows = new RecordingWorkflows();

    const cluster = await change(
      'analytics',
      { principal: ALICE_ARN },
      deps(withWritesInBetween(2), workflows),
    );

    expect(cluster.state).toBe(state);
    expect(workflows.started).toHaveLength(1);
    expect(workflows.started[0]!.executionName).toContain(`v${cluster.version - 1}`);
  });

  it('resume too, from PAUSED', async () => {
    await ready();
    await h.testStore.store.transition(h.cluster.id, {
      name: 'analytics',
      from: ['READY'],
      to: 'PAUSING',
      event: { step: 'test', message: 'pausing' },
    });
    await h.testStore.store.transition(h.cluster.id, {
      name: 'analytics',
      from: ['PAUSING'],
      to: 'PAUSED',
      event: { step: 'test', message: 'paused' },
    });

    const cluster = await resumeCluster('analytics', { principal: ALICE_ARN }, deps(withWritesInBetween(1)));

    expect(cluster.state).toBe('RESUMING');
  });

  it('gives up after three tries, with nothing started', async () => {
    await ready();
    const workflows = new RecordingWorkflows();

    await expect(
      destroyCluster('analytics', { principal: ALICE_ARN }, deps(withWritesInBetween(3), workflows)),
    ).rejects.toThrow(ConcurrentUpdateError);
    expect(workflows.started).toEqual([]);
    expect((await h.latest()).state).toBe('READY');
  });
});
