/**
 * The definition of every workflow in the registry (lambdas/domain/workflows.ts),
 * keyed by its name: the type makes a registered workflow without a
 * definition a compile error.
 */
import type { IChainable } from 'aws-cdk-lib/aws-stepfunctions';
import type { WorkflowName } from '../../lambdas/domain/workflows.ts';
import { createDefinition } from './create.ts';
import { destroyDefinition } from './destroy.ts';
import type { Steps } from './shapes.ts';

export interface WorkflowDefinition {
  /** The state machine's construct id. */
  readonly id: string;
  readonly build: (steps: Steps) => IChainable;
}

export const WORKFLOW_DEFINITIONS: Readonly<Record<WorkflowName, WorkflowDefinition>> = {
  create: { id: 'CreateCluster', build: createDefinition },
  destroy: { id: 'DestroyCluster', build: destroyDefinition },
};
