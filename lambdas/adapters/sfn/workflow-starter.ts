import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { WorkflowStarter } from '../../domain/ports.ts';
import type { WorkflowInputs, WorkflowName } from '../../domain/workflows.ts';

/** Each workflow's state machine ARN (the deployment contract names one variable per workflow). */
export type StateMachineArns = Readonly<Record<WorkflowName, string>>;

/**
 * Starts the Step Functions workflows. The execution name is derived from
 * the cluster, so a retried request cannot start a second execution.
 */
export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly arns: StateMachineArns,
  ) {}

  async start<W extends WorkflowName>(
    workflow: W,
    executionName: string,
    input: WorkflowInputs[W],
  ): Promise<string> {
    const stateMachineArn = this.arns[workflow];
    try {
      const result = await this.client.send(
        new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }),
      );
      return result.executionArn ?? executionArnOf(stateMachineArn, executionName);
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return executionArnOf(stateMachineArn, executionName);
      throw error;
    }
  }

  async isRunning(executionArn: string): Promise<boolean | undefined> {
    try {
      const { status } = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return status === 'RUNNING' || status === 'PENDING_REDRIVE';
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return false;
      return undefined;
    }
  }
}

function executionArnOf(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}
