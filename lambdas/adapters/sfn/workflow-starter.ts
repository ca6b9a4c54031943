import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionStatus, WorkflowExecution, WorkflowStarter } from '../../domain/ports.ts';
import type { WorkflowInputs, WorkflowName } from '../../domain/workflows.ts';

/**
 * The state machine ARN of each workflow the function starts or reads (the
 * deployment contract names one variable per workflow; a function is given
 * only those it needs).
 */
export type StateMachineArns = Readonly<Partial<Record<WorkflowName, string>>>;

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
    const stateMachineArn = this.arnOf(workflow);
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

  async describe(workflow: WorkflowName, executionName: string): Promise<WorkflowExecution | undefined> {
    const executionArn = executionArnOf(this.arnOf(workflow), executionName);
    try {
      const execution = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      const status = statusOf(execution.status);
      const error = [execution.error, execution.cause].filter(Boolean).join(': ');
      return {
        status,
        ...(status === 'SUCCEEDED' && execution.output !== undefined
          ? { output: JSON.parse(execution.output) as unknown }
          : {}),
        ...(status !== 'SUCCEEDED' && error ? { error } : {}),
      };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  }

  private arnOf(workflow: WorkflowName): string {
    const arn = this.arns[workflow];
    // A deployment bug: the stack gives each function the ARNs of the workflows it starts.
    if (!arn) throw new Error(`this function was not given the ${workflow} state machine's ARN`);
    return arn;
  }
}

/** A redriven execution runs again. */
function statusOf(status: string | undefined): ExecutionStatus {
  if (status === 'PENDING_REDRIVE' || status === undefined) return 'RUNNING';
  return status as ExecutionStatus;
}

function executionArnOf(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}
