/**
 * Every task's domain step, by name: local mode builds all their handlers
 * over its own adapters with it. A Lambda entry imports only its own step
 * (see task-names.ts), never this module.
 */
import { checkMachines } from '../../domain/workflow/check-machines.ts';
import {
  recordDestroyed,
  recordDestroyFailed,
  terminateMachines,
} from '../../domain/workflow/destroy-steps.ts';
import { launchRole } from '../../domain/workflow/launch-role.ts';
import { recordPaused, recordPauseFailed, stopMachines } from '../../domain/workflow/pause-steps.ts';
import { probeReady } from '../../domain/workflow/probe-ready.ts';
import { recordReady } from '../../domain/workflow/record-ready.ts';
import { recordRestarted, recordRestartFailed } from '../../domain/workflow/record-restart.ts';
import { checkRestart, restartRole } from '../../domain/workflow/restart-role.ts';
import { recordResumed, recordResumeFailed, startMachines } from '../../domain/workflow/resume-steps.ts';
import { rollbackCreate } from '../../domain/workflow/rollback-create.ts';
import { runInit } from '../../domain/workflow/run-init.ts';
import { sweep } from '../../domain/workflow/sweep.ts';
import { lambdaTask } from './task-handler.ts';
import type { TaskName } from './task-names.ts';

export const TASK_STEPS = {
  launchRole,
  checkMachines,
  probeReady,
  runInit,
  recordReady,
  rollbackCreate,
  terminateMachines,
  recordDestroyed,
  recordDestroyFailed,
  restartRole,
  checkRestart,
  recordRestarted,
  recordRestartFailed,
  stopMachines,
  recordPaused,
  recordPauseFailed,
  startMachines,
  recordResumed,
  recordResumeFailed,
  sweep,
} as const satisfies Record<TaskName, (input: never, deps: never) => Promise<unknown>>;
export type TaskInput<T extends TaskName> = Parameters<(typeof TASK_STEPS)[T]>[0];
export type TaskDependencies<T extends TaskName> = Parameters<(typeof TASK_STEPS)[T]>[1];

type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** What every step needs, together: local mode gives all of them one set of adapters. */
export type AllStepDependencies = Intersection<TaskDependencies<TaskName>>;

/** The task's Lambda handler over these dependencies. */
export function stepHandler<T extends TaskName>(task: T, deps: TaskDependencies<T> | AllStepDependencies) {
  const step = TASK_STEPS[task] as (input: TaskInput<T>, deps: TaskDependencies<T>) => Promise<unknown>;
  return lambdaTask(task, step, deps as TaskDependencies<T>);
}
