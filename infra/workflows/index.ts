/**
 * The definition of every workflow in the registry (lambdas/domain/workflows.ts),
 * keyed by its name: the type makes a registered workflow without a
 * definition a compile error.
 */
import { Duration } from 'aws-cdk-lib';
import type { IChainable } from 'aws-cdk-lib/aws-stepfunctions';
import { STOP_TIMEOUT_SECONDS, SWEEP_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import { READY_TIMEOUT_MAX_SECONDS } from '../../lambdas/domain/plan.ts';
import type { WorkflowName } from '../../lambdas/domain/workflows.ts';
import { createDefinition } from './create.ts';
import { destroyDefinition } from './destroy.ts';
import { pauseDefinition } from './pause.ts';
import { restartDefinition } from './restart.ts';
import { resumeDefinition } from './resume.ts';
import type { Steps } from './shapes.ts';
import { sweepDefinition } from './sweep.ts';

/** The deployment's settings a workflow's definition depends on. */
export interface WorkflowSettings {
  /** How long a destroy may wait for every machine to be gone. */
  readonly destroyTimeoutSeconds: number;
}

export interface WorkflowDefinition {
  /** The state machine's construct id. */
  readonly id: string;
  readonly build: (steps: Steps) => IChainable;
  /**
   * The execution's timeout: a margin above its longest legal run, a
   * backstop behind the deadlines its loops keep (a timed-out execution
   * runs no compensation).
   */
  readonly timeout: (settings: WorkflowSettings) => Duration;
}

/**
 * Beyond a workflow's own deadline: its launches, one more probe budget,
 * and the compensation with every retry (a few minutes), with room to spare.
 */
export const SETTLING_MARGIN = Duration.minutes(30);

export const WORKFLOW_DEFINITIONS: Readonly<Record<WorkflowName, WorkflowDefinition>> = {
  create: {
    id: 'CreateCluster',
    build: createDefinition,
    // The longest ready_timeout a profile may set, counted from the create's start.
    timeout: () => Duration.seconds(READY_TIMEOUT_MAX_SECONDS).plus(SETTLING_MARGIN),
  },
  destroy: {
    id: 'DestroyCluster',
    build: destroyDefinition,
    timeout: ({ destroyTimeoutSeconds }) => Duration.seconds(destroyTimeoutSeconds).plus(SETTLING_MARGIN),
  },
  restart: {
    id: 'RestartCluster',
    build: restartDefinition,
    // Its deadline is the profile's ready_timeout, counted from the request.
    timeout: () => Duration.seconds(READY_TIMEOUT_MAX_SECONDS).plus(SETTLING_MARGIN),
  },
  pause: {
    id: 'PauseCluster',
    build: pauseDefinition,
    // Its deadline, then, for a pause undone, the wait of a resume.
    timeout: () => Duration.seconds(STOP_TIMEOUT_SECONDS + READY_TIMEOUT_MAX_SECONDS).plus(SETTLING_MARGIN),
  },
  resume: {
    id: 'ResumeCluster',
    build: resumeDefinition,
    // Its deadline is the profile's ready_timeout, counted from the request.
    timeout: () => Duration.seconds(READY_TIMEOUT_MAX_SECONDS).plus(SETTLING_MARGIN),
  },
  sweep: {
    id: 'SweepClusters',
    build: sweepDefinition,
    // One step, whose task has a timeout: no settling margin (it has no compensation).
    timeout: () => Duration.seconds(SWEEP_TIMEOUT_SECONDS),
  },
};
