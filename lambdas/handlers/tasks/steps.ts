/**
 * The step handlers the workflows call, by task name: each is a domain
 * step and the dependencies it takes. The Lambda entries next to this file
 * build one each from the deployment's environment; local mode builds them
 * all from its own adapters; the CDK app gives each its own function
 * (infra/workflows/tasks.ts). A task's step name (`launch-role`) names its
 * logs and its entry module (`tasks/launch-role.ts`).
 */
import { checkMachines } from '../../domain/workflow/check-machines.ts';
import {
  recordDestroyed,
  recordDestroyFailed,
  terminateMachines,
} from '../../domain/workflow/destroy-steps.ts';
import { launchRole } from '../../domain/workflow/launch-role.ts';
import { probeReady } from '../../domain/workflow/probe-ready.ts';
import { recordReady } from '../../domain/workflow/record-ready.ts';
import { rollbackCreate } from '../../domain/workflow/rollback-create.ts';
import { taskHandler } from './task-handler.ts';

export const TASK_STEPS = {
  launchRole,
  checkMachines,
  probeReady,
  recordReady,
  rollbackCreate,
  terminateMachines,
  recordDestroyed,
  recordDestroyFailed,
} as const;

export type TaskName = keyof typeof TASK_STEPS;
export type TaskInput<T extends TaskName> = Parameters<(typeof TASK_STEPS)[T]>[0];
export type TaskDependencies<T extends TaskName> = Parameters<(typeof TASK_STEPS)[T]>[1];

export const TASK_NAMES = Object.keys(TASK_STEPS) as TaskName[];

type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** What every step needs, together: local mode gives all of them one set of adapters. */
export type AllStepDependencies = Intersection<TaskDependencies<TaskName>>;

/** `launchRole` → `launch-role`: the step's name in logs, and its entry module's. */
export function stepName(task: TaskName): string {
  return task.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The entry module of the task's Lambda function, relative to the repository root. */
export function taskEntry(task: TaskName): string {
  return `lambdas/handlers/tasks/${stepName(task)}.ts`;
}

/** The task's Lambda handler over these dependencies. */
export function stepHandler<T extends TaskName>(task: T, deps: TaskDependencies<T> | AllStepDependencies) {
  const step = TASK_STEPS[task] as (input: TaskInput<T>, deps: TaskDependencies<T>) => Promise<unknown>;
  return taskHandler(stepName(task), (input: TaskInput<T>) => step(input, deps));
}
