import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnWorkflowStarter } from '../../adapters/sfn/workflow-starter.ts';
import type { ConfigOf, WORKFLOW_ARNS } from '../../config.ts';
import type { WorkflowStarter } from '../../domain/ports.ts';

export function sfnWorkflows(arns: ConfigOf<typeof WORKFLOW_ARNS>): WorkflowStarter {
  return new SfnWorkflowStarter(new SFNClient({}), arns);
}
