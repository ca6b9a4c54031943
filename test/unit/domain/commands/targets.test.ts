import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../../lambdas/domain/commands/targets.ts';
import { UnknownTargetError } from '../../../../lambdas/domain/errors.ts';
import type { ClusterInstance } from '../../../../schemas/types.generated.ts';

const instances: ClusterInstance[] = [
  { id: 'i-w1', role: 'worker', index: 1, privateIp: '10.0.0.12', publicIp: '203.0.113.12' },
  { id: 'i-nb', role: 'notebook', index: 0, privateIp: '10.0.0.20', publicIp: '203.0.113.20' },
  { id: 'i-w0', role: 'worker', index: 0, privateIp: '10.0.0.11', publicIp: '203.0.113.11' },
  { id: 'i-s', role: 'scheduler', index: 0, privateIp: '10.0.0.4', publicIp: '203.0.113.4' },
];
const plan = {
  roles: [{ role: 'scheduler' as const }, { role: 'notebook' as const }, { role: 'worker' as const }],
};
const ids = (target: string) => resolveTarget({ instances, plan }, target).map((instance) => instance.id);

describe('resolveTarget', () => {
  it('takes a role, one worker by index, or all, in scheduler-notebook-workers order', () => {
    expect(ids('all')).toEqual(['i-s', 'i-nb', 'i-w0', 'i-w1']);
    expect(ids('worker')).toEqual(['i-w0', 'i-w1']);
    expect(ids('worker:1')).toEqual(['i-w1']);
    expect(ids('scheduler')).toEqual(['i-s']);
  });

  it('takes an instance id, its public address (as the original bilbo did) or its private one', () => {
    expect(ids('i-nb')).toEqual(['i-nb']);
    expect(ids('203.0.113.12')).toEqual(['i-w1']);
    expect(ids('10.0.0.4')).toEqual(['i-s']);
  });

  it('refuses a target that matches nothing, listing the valid ones', () => {
    for (const target of ['worker:7', '10.9.9.9', 'workers', 'i-gone']) {
      expect(() => ids(target)).toThrow(UnknownTargetError);
    }
    expect(() => ids('worker:7')).toThrow(
      'target "worker:7" names none of the cluster\'s instances; use one of: all, scheduler, notebook, worker, worker:N (N from 0 to 1), i-s, i-nb, i-w0, i-w1',
    );
  });
});
