/**
 * The tasks the workflows call, by name: the one list, which the step
 * registry (steps.ts), the CDK app's task table (infra/workflows/tasks.ts)
 * and the template reader (infra/asl.ts) follow. A task's step name
 * (`launch-role`) names its logs and its entry module (`tasks/launch-role.ts`),
 * which builds the task's Lambda handler from the deployment's environment,
 * importing only what that step uses.
 */
export const TASK_NAMES = [
  'launchRole',
  'checkMachines',
  'probeReady',
  'runInit',
  'recordReady',
  'rollbackCreate',
  'terminateMachines',
  'recordDestroyed',
  'recordDestroyFailed',
  'restartRole',
  'checkRestart',
  'recordRestarted',
  'recordRestartFailed',
  'stopMachines',
  'recordPaused',
  'recordPauseFailed',
  'startMachines',
  'recordResumed',
  'recordResumeFailed',
  'sweep',
] as const;

export type TaskName = (typeof TASK_NAMES)[number];

/** `launchRole` → `launch-role`: the step's name in logs, and its entry module's. */
export function stepName(task: TaskName): string {
  return task.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The entry module of the task's Lambda function, relative to the repository root. */
export function taskEntry(task: TaskName): string {
  return `lambdas/handlers/tasks/${stepName(task)}.ts`;
}
