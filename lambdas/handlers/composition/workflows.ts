import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnWorkflowStarter, type StateMachineArns } from '../../adapters/sfn/workflow-starter.ts';
import type { WorkflowStarter } from '../../domain/ports.ts';

/** The workflows whose state machine ARNs the function was given (lambdas/config.ts workflowArns). */
export function sfnWorkflows(arns: StateMachineArns): WorkflowStarter {
  return new SfnWorkflowStarter(new SFNClient({}), arns);
}
