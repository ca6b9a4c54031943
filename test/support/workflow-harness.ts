/**
 * The workflow steps' world for tests: a fresh in-memory store (the same
 * contract as the DynamoDB one, no JVM) and a fresh fake provider per test, and a CREATING cluster seeded the way
 * the API records one (two one-process workers, ready_timeout 60 s).
 */

import { beforeEach } from 'vitest';
import { LocalPreflight } from '../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import { MemoryClusterStore } from '../../lambdas/adapters/memory/cluster-store.ts';
import { newClusterRecord } from '../../lambdas/domain/use-cases/create-cluster.ts';
import { prepareCluster } from '../../lambdas/domain/use-cases/prepare-cluster.ts';
import { launchRole } from '../../lambdas/domain/workflow/launch-role.ts';
import type { Cluster, ClusterEvent } from '../../schemas/types.generated.ts';
import { ALICE_ARN } from './api-events.ts';
import { DASK_PROGRAMS } from './dask-launch.ts';
import { type FakeClock, fakeClock } from './fake-clock.ts';
import { FakeMachineProvider } from './fake-provider.ts';
import { ScriptedRemote } from './fake-remote.ts';

const PROFILE = { dask: { worker: { count: 2, nproc: 1, nthread: 1 } }, ready_timeout: 60 };
const secrets = new MemorySecretStore();
const catalog = new LocalMachineCatalog({ facts: { vcpus: 1, threadsPerCore: 1, memoryMiB: 4096 } });

export interface WorkflowHarness {
  /** Replaced before each test. */
  testStore: { store: MemoryClusterStore; clock: FakeClock };
  /** Replaced before each test; a test may replace it again before using it. */
  provider: FakeMachineProvider;
  /** The seeded cluster, as first recorded. Replaced before each test. */
  cluster: Cluster;
  /** Replaced before each test: whether machines can take commands (all can, unless a test says not). */
  remote: ScriptedRemote;
  deps(): {
    store: MemoryClusterStore;
    provider: FakeMachineProvider;
    secrets: MemorySecretStore;
    remote: ScriptedRemote;
    clock: FakeClock;
  };
  /** The seeded cluster's record now. */
  latest(): Promise<Cluster>;
  /** The seeded cluster's events, of one step when given. */
  eventsOf(step?: string): Promise<ClusterEvent[]>;
  /** Records a new CREATING cluster, as the API does. */
  seedCluster(name?: string): Promise<Cluster>;
  /** Launches the scheduler, then the workers, through launchRole. */
  launchAll(): Promise<void>;
  /** A machine no record knows: launched straight on the provider with the cluster's tag. */
  launchStray(): Promise<string>;
}

export function useWorkflowHarness(): WorkflowHarness {
  let ids = 0;
  const h = {
    deps: () => ({
      store: h.testStore.store,
      provider: h.provider,
      secrets,
      remote: h.remote,
      clock: h.testStore.clock,
    }),
    latest: async () => {
      const cluster = await h.testStore.store.get(h.cluster.id);
      if (!cluster) throw new Error(`cluster ${h.cluster.id} is gone`);
      return cluster;
    },
    eventsOf: async (step) =>
      (await h.testStore.store.events(h.cluster.id)).filter(
        (event) => step === undefined || event.step === step,
      ),
    seedCluster: async (name = 'analytics') => {
      const { plan } = await prepareCluster(
        { name, profile: PROFILE },
        { catalog, preflight: new LocalPreflight(DASK_PROGRAMS) },
      );
      const cluster = newClusterRecord({
        id: `c-${(++ids).toString(16).padStart(16, '0')}`,
        name,
        owner: ALICE_ARN,
        plan,
        now: h.testStore.clock.now(),
      });
      await h.testStore.store.create(cluster, { step: 'accepted', message: 'create requested' });
      return cluster;
    },
    launchAll: async () => {
      const { primaryAddress } = await launchRole({ clusterId: h.cluster.id, role: 'scheduler' }, h.deps());
      await launchRole(
        { clusterId: h.cluster.id, role: 'worker', primaryAddress: primaryAddress! },
        h.deps(),
      );
    },
    launchStray: async () => {
      const [request] = h.provider.launchRequests();
      if (!request) throw new Error('launch something first');
      const [stray] = await h.provider.launch({ ...request, idempotencyToken: 'stray', count: 1 });
      return stray!.id;
    },
  } as WorkflowHarness;

  beforeEach(async () => {
    const clock = fakeClock();
    h.testStore = { store: new MemoryClusterStore({ clock }), clock };
    h.provider = new FakeMachineProvider({ clock });
    h.remote = new ScriptedRemote(() => ({}));
    h.cluster = await h.seedCluster();
  });
  return h;
}
