/** The records and helpers the ClusterStore contract tests share. */
import { randomBytes } from 'node:crypto';
import type { ClusterStore } from '../../lambdas/domain/ports.ts';
import type { Cluster, ClusterInstance, ClusterState } from '../../schemas/types.generated.ts';
import type { FakeClock } from '../support/fake-clock.ts';

const IN_PROGRESS: ClusterState[] = ['CREATING', 'PAUSING', 'RESUMING', 'RESTARTING', 'DESTROYING'];
export const STORAGE_ATTRIBUTES = ['pk', 'sk', 'kind', 'liveKind', 'expiresAt', 'roleInstances'];

export interface StoreUnderTest {
  store: ClusterStore;
  clock: FakeClock;
}

export function newCluster(clock: FakeClock, name = 'analytics', overrides: Partial<Cluster> = {}): Cluster {
  const now = clock.now().toISOString();
  return {
    id: `c-${randomBytes(8).toString('hex')}`,
    name,
    owner: 'arn:aws:iam::111111111111:user/alice',
    state: 'CREATING',
    version: 1,
    createdAt: now,
    updatedAt: now,
    profileName: 'default',
    plan: {
      cluster: name,
      kind: 'dask',
      roles: [
        {
          role: 'scheduler',
          count: 1,
          instance: { ec2type: 't3.large', init_cmd: ['echo hi'], tags: [['team', 'ml']] },
          instanceType: { name: 't3.large', vcpus: 2, threadsPerCore: 2, memoryMiB: 8192, source: 'ec2' },
        },
        {
          role: 'worker',
          count: 2,
          instance: { ec2type: 'm5.xlarge', init_cmd: [], tags: [] },
          instanceType: { name: 'm5.xlarge', vcpus: 4, threadsPerCore: 2, memoryMiB: 16384 },
          dask: { nworkers: 2, nthreads: 2, memoryLimitBytes: 8_000_000_000 },
        },
      ],
      wantedWorkers: 4,
      totalWorkers: 4,
      readyTimeoutSeconds: 600,
      idleTimeoutSeconds: 3600,
      maxLifetimeSeconds: 86_400,
      notes: ['workers use 2 processes of 2 threads'],
    },
    instances: [],
    workersJoined: 0,
    ...overrides,
  };
}

export function storageAttributesOf(value: object): string[] {
  return Object.keys(value).filter((key) => STORAGE_ATTRIBUTES.includes(key));
}

export const instance = (role: ClusterInstance['role'], index: number): ClusterInstance => ({
  id: `i-${role}-${index}`,
  role,
  index,
  privateIp: `10.0.0.${index + 10}`,
});

/** Records and ends clusters in the store under test. */
export function storeFixture(store: () => StoreUnderTest) {
  async function created(name = 'analytics', overrides: Partial<Cluster> = {}): Promise<Cluster> {
    const cluster = newCluster(store().clock, name, overrides);
    await store().store.create(cluster, { step: 'accepted', message: 'create requested' });
    return cluster;
  }

  async function get(id: string): Promise<Cluster> {
    const cluster = await store().store.get(id);
    if (!cluster) throw new Error(`no cluster ${id}`);
    return cluster;
  }

  async function end(cluster: Cluster, to: 'DESTROYED' | 'FAILED'): Promise<void> {
    const current = await get(cluster.id);
    if (to === 'DESTROYED' && current.state !== 'DESTROYING') {
      await store().store.transition(cluster.id, {
        name: cluster.name,
        from: ['CREATING', 'READY', 'FAILED'],
        to: 'DESTROYING',
        event: { step: 'destroy', message: 'destroying' },
      });
    }
    await store().store.transition(cluster.id, {
      name: cluster.name,
      from: to === 'FAILED' ? IN_PROGRESS : ['DESTROYING'],
      to,
      event: { step: 'end', message: `now ${to}` },
    });
  }

  return { created, get, end };
}
