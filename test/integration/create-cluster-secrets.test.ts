/**
 * A create that cannot go on after storing its secrets leaves none behind:
 * no workflow will ever run to remove them.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import { MemoryClusterStore } from '../../lambdas/adapters/memory/cluster-store.ts';
import { type CreateClusterDeps, createCluster } from '../../lambdas/domain/use-cases/create-cluster.ts';
import { ALICE_ARN } from '../support/api-events.ts';
import { RecordingWorkflows } from '../support/api-harness.ts';
import { fakeClock } from '../support/fake-clock.ts';

const WITH_GIT = {
  instance: { ec2type: 't3.large', ami: 'ami-0123456789abcdef0' },
  dask: { worker: { count: 1 } },
  notebook: {
    git: {
      repository: 'https://git.example.com/team/repo.git',
      user: 'alice',
      email: 'alice@example.com',
      password: 's3cret',
    },
  },
};

let deps: CreateClusterDeps & {
  secrets: MemorySecretStore;
  workflows: RecordingWorkflows;
  store: MemoryClusterStore;
};

beforeEach(() => {
  const clock = fakeClock();
  deps = {
    store: new MemoryClusterStore({ clock }),
    catalog: new LocalMachineCatalog({ facts: { vcpus: 2, threadsPerCore: 1, memoryMiB: 8192 } }),
    // EC2's preflight, which accepts a notebook; what it checks is tested with the EC2 adapters.
    preflight: { check: async () => {} },
    workflows: new RecordingWorkflows(),
    secrets: new MemorySecretStore(),
    clock,
    newClusterId: () => 'c-0000000000000001',
    newSecret: () => 'token',
  };
});

describe('createCluster and its secrets', () => {
  it('stores the notebook token and the git password for the workflow when all goes well', async () => {
    await createCluster({ name: 'analytics', profile: WITH_GIT }, ALICE_ARN, deps);

    expect(deps.secrets.size()).toBe(2);
  });

  it('removes them, and records FAILED at start-workflow, when the workflow cannot start', async () => {
    deps.workflows.failure = new Error('Rate exceeded');

    await expect(createCluster({ name: 'analytics', profile: WITH_GIT }, ALICE_ARN, deps)).rejects.toThrow(
      'Rate exceeded',
    );

    expect(deps.secrets.size()).toBe(0);
    expect(await deps.store.get('c-0000000000000001')).toMatchObject({
      state: 'FAILED',
      failure: { step: 'start-workflow', message: 'Rate exceeded' },
    });
  });

  it('removes the ones it stored, and records FAILED at store-secrets, when storing one fails', async () => {
    const put = deps.secrets.put.bind(deps.secrets);
    let puts = 0;
    vi.spyOn(deps.secrets, 'put').mockImplementation(async (...args) => {
      if (++puts === 2) throw new Error('ParameterLimitExceeded');
      return put(...args);
    });

    await expect(createCluster({ name: 'analytics', profile: WITH_GIT }, ALICE_ARN, deps)).rejects.toThrow(
      'ParameterLimitExceeded',
    );

    expect(deps.secrets.size()).toBe(0);
    expect(deps.workflows.started).toEqual([]);
    expect(await deps.store.get('c-0000000000000001')).toMatchObject({
      state: 'FAILED',
      failure: { step: 'store-secrets', message: 'ParameterLimitExceeded' },
    });
  });
});
