/**
 * The cluster lifecycle: which state changes are legal. The store makes each
 * one a conditional write on `sourcesOf(to)`, so two requests never both win.
 */
import commonSchema from '../../schemas/api/common.schema.json' with { type: 'json' };
import type { ClusterState } from '../../schemas/types.generated.ts';
import { IllegalTransitionError } from './errors.ts';

export const clusterStates = commonSchema.definitions.clusterState.enum as readonly ClusterState[];

const TRANSITIONS: Readonly<Record<ClusterState, readonly ClusterState[]>> = {
  CREATING: ['READY', 'FAILED', 'DESTROYING'],
  // The reaper fails a READY or PAUSED cluster whose machines are gone (issue 10 §2, §6).
  READY: ['PAUSING', 'RESTARTING', 'DESTROYING', 'FAILED'],
  // A pause that could not stop every machine starts them again, and waits as a resume does;
  // one whose workflow could not start stopped nothing (READY).
  PAUSING: ['READY', 'PAUSED', 'RESUMING', 'FAILED'],
  PAUSED: ['RESUMING', 'DESTROYING', 'FAILED'],
  // A resume that fails stops the machines again.
  RESUMING: ['READY', 'PAUSED', 'FAILED'],
  RESTARTING: ['READY', 'FAILED'],
  DESTROYING: ['DESTROYED', 'FAILED'],
  // Destroying a failed cluster removes whatever it left behind.
  FAILED: ['DESTROYING'],
  DESTROYED: [],
};

export function canTransition(from: ClusterState, to: ClusterState): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

/** Throws IllegalTransitionError, with a hint at what to do, when `from → to` is not allowed. */
export function assertTransition(from: ClusterState, to: ClusterState): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, hintFor(from, to));
}

/** The states from which `to` may be entered. */
export function sourcesOf(to: ClusterState): ClusterState[] {
  return clusterStates.filter((from) => TRANSITIONS[from].includes(to));
}

/** The cluster holds its name and may have machines. */
export function isLive(state: ClusterState): boolean {
  return !isEnded(state);
}

export function isEnded(state: ClusterState): boolean {
  return state === 'DESTROYED' || state === 'FAILED';
}

const BUSY: Partial<Record<ClusterState, string>> = {
  CREATING: 'it is still being created; wait until it is READY',
  PAUSING: 'it is being paused; wait until it is PAUSED',
  RESUMING: 'it is being resumed; wait until it is READY',
  RESTARTING: 'it is being restarted; wait until it is READY',
  DESTROYING: 'it is already being destroyed',
};

function hintFor(from: ClusterState, to: ClusterState): string {
  if (from === 'DESTROYED') return 'It is already destroyed; create a new one with `bilbo create`.';
  if (from === 'FAILED') return 'It failed; destroy it to clean up, then create it again.';
  const busy = BUSY[from];
  if (busy) return `${capitalize(busy)}.`;
  if (from === to) return `It is already ${from}.`;
  if (from === 'PAUSED') {
    return to === 'PAUSING' ? 'It is already paused.' : 'It is paused; resume it first.';
  }
  if (from === 'READY' && to === 'RESUMING') return 'It is not paused.';
  return '';
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
