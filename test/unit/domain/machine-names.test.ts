import { describe, expect, it } from 'vitest';
import { launchName, machineName } from '../../../lambdas/domain/machines.ts';

describe('machineName', () => {
  it('is the instance prefix, the cluster, the role and the index', () => {
    expect(machineName({ instancePrefix: 'team-', clusterName: 'nightly', role: 'worker' }, 3)).toBe(
      'team-nightly-worker-3',
    );
    expect(machineName({ clusterName: 'nightly', role: 'notebook' }, 0)).toBe('nightly-notebook-0');
  });

  it('is the role’s name without an index', () => {
    expect(machineName({ instancePrefix: 'team-', clusterName: 'nightly', role: 'worker' })).toBe(
      'team-nightly-worker',
    );
  });
});

describe('launchName', () => {
  const parts = { instancePrefix: 'team-', clusterName: 'nightly', role: 'worker' } as const;

  it('names a launch of one machine in full, with its index', () => {
    expect(launchName({ ...parts, firstIndex: 4, count: 1 })).toBe('team-nightly-worker-4');
  });

  it('gives a launch of many the role’s name, each to be renamed with its own index', () => {
    expect(launchName({ ...parts, firstIndex: 0, count: 2 })).toBe('team-nightly-worker');
  });
});
