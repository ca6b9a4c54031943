import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../../lambdas/domain/errors.ts';
import {
  assertTransition,
  canTransition,
  clusterStates,
  isEnded,
  isLive,
  sourcesOf,
} from '../../../lambdas/domain/lifecycle.ts';
import type { ClusterState } from '../../../schemas/types.generated.ts';

// The table of the issue, written out independently of the implementation.
const LEGAL: Record<ClusterState, ClusterState[]> = {
  CREATING: ['READY', 'FAILED', 'DESTROYING'],
  // Issue 10 §2 and §6: the reaper fails a live cluster whose machines are gone.
  READY: ['PAUSING', 'RESTARTING', 'DESTROYING', 'FAILED'],
  // Issue 9 §7: a failed pause starts the machines again; a failed resume stops them again.
  PAUSING: ['READY', 'PAUSED', 'RESUMING', 'FAILED'],
  PAUSED: ['RESUMING', 'DESTROYING', 'FAILED'],
  RESUMING: ['READY', 'PAUSED', 'FAILED'],
  RESTARTING: ['READY', 'FAILED'],
  DESTROYING: ['DESTROYED', 'FAILED'],
  FAILED: ['DESTROYING'],
  DESTROYED: [],
};

const pairs = clusterStates.flatMap((from) =>
  clusterStates.map((to) => [from, to, LEGAL[from].includes(to)] as const),
);

describe('the cluster lifecycle', () => {
  it('knows the nine states of the schema', () => {
    expect([...clusterStates].sort()).toEqual(Object.keys(LEGAL).sort());
  });

  it.each(pairs)('%s → %s is legal: %s', (from, to, legal) => {
    expect(canTransition(from, to)).toBe(legal);
    if (legal) {
      expect(() => assertTransition(from, to)).not.toThrow();
    } else {
      expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError);
    }
  });

  it.each(clusterStates)('lists the states from which %s may be entered', (to) => {
    const expected = clusterStates.filter((from) => LEGAL[from].includes(to));
    expect(sourcesOf(to)).toEqual(expected);
  });

  it('enters DESTROYING from every state that may still hold machines', () => {
    expect(sourcesOf('DESTROYING').sort()).toEqual(['CREATING', 'FAILED', 'PAUSED', 'READY']);
  });

  it('explains why a destroyed cluster cannot be destroyed again', () => {
    expect(() => assertTransition('DESTROYED', 'DESTROYING')).toThrow(
      expect.objectContaining({
        code: 'ILLEGAL_TRANSITION',
        from: 'DESTROYED',
        to: 'DESTROYING',
        message: expect.stringContaining('already destroyed'),
      }),
    );
  });

  it.each<[ClusterState, ClusterState, RegExp]>([
    ['DESTROYING', 'DESTROYING', /already being destroyed/],
    ['CREATING', 'PAUSING', /wait until it is READY/],
    ['PAUSED', 'PAUSING', /already paused/],
    ['PAUSED', 'RESTARTING', /resume it first/],
    ['READY', 'RESUMING', /not paused/],
    ['FAILED', 'RESUMING', /destroy it to clean up/],
    ['READY', 'READY', /already READY/],
  ])('hints at what to do for %s → %s', (from, to, hint) => {
    expect(() => assertTransition(from, to)).toThrow(hint);
  });

  it.each(clusterStates)('calls %s live or ended, never both', (state) => {
    const ended = state === 'DESTROYED' || state === 'FAILED';
    expect([isLive(state), isEnded(state)]).toEqual([!ended, ended]);
  });
});
