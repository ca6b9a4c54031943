import type { CfnResource } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEADLINES, environmentOf, SWEEP_STARTS, stateMachineArnVariable } from '../../lambdas/config.ts';
import { DESTROY_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import { REAPER_DEFAULTS, type ReaperSettings } from '../../lambdas/domain/reaper/rules.ts';
import { WORKFLOW_NAMES, WORKFLOWS, type WorkflowName } from '../../lambdas/domain/workflows.ts';
import { WORKFLOW_METADATA_KEY } from '../metadata.ts';
import { WORKFLOW_DEFINITIONS, type WorkflowSettings } from '../workflows/index.ts';
import { Steps } from '../workflows/shapes.ts';
import { TaskFunctions } from '../workflows/tasks.ts';
import { regionalArn } from './arns.ts';
import { addEnvironment, type BilboFunction } from './bilbo-function.ts';
import type { ClusterNetwork } from './cluster-network.ts';
import type { ClusterTable } from './cluster-table.ts';
import type { MachineAccess } from './machine-access.ts';
import { acknowledge, arnInFinding, logicalIdOf, wildcardFinding } from './nag.ts';

export interface ClusterWorkflowsProps {
  /** Each task function takes the actions of its own step on it (infra/workflows/tasks.ts). */
  readonly table: ClusterTable;
  /** Grants each task the EC2/SSM access its step needs, and no more. */
  readonly machines: MachineAccess;
  /** The readiness probe runs in its subnets, with its probe security group. */
  readonly network: ClusterNetwork;
  /**
   * How long a destroy may wait for every machine to be gone.
   * @default DESTROY_TIMEOUT_SECONDS.default (600)
   */
  readonly destroyTimeoutSeconds?: number;
  /**
   * The reaper's settings, given to the sweep's function.
   * @default REAPER_DEFAULTS
   */
  readonly reaper?: Partial<ReaperSettings>;
}

/**
 * Every workflow of the registry as a Standard state machine (JSONPath, so
 * the local ASL interpreter runs the same definitions), over one Lambda
 * function per task.
 */
export class ClusterWorkflows extends Construct {
  readonly stateMachines: Readonly<Record<WorkflowName, StateMachine>>;
  readonly tasks: TaskFunctions;
  private readonly settings: WorkflowSettings;

  constructor(scope: Construct, id: string, props: ClusterWorkflowsProps) {
    super(scope, id);
    this.settings = { destroyTimeoutSeconds: props.destroyTimeoutSeconds ?? DESTROY_TIMEOUT_SECONDS.default };
    this.tasks = new TaskFunctions(this, 'Functions', {
      ...props,
      reaper: { ...REAPER_DEFAULTS, ...props.reaper },
    });
    this.stateMachines = Object.fromEntries(
      WORKFLOW_NAMES.map((workflow) => [workflow, this.stateMachine(workflow)]),
    ) as Record<WorkflowName, StateMachine>;

    const sweep = this.tasks.of('sweep');
    this.grantStartTo(sweep, SWEEP_STARTS);
    // Whether a stuck cluster's workflow still runs; never a sweep's own (a cluster runs none).
    for (const workflow of WORKFLOW_NAMES.filter((name) => name !== 'sweep')) {
      this.grantDescribeExecutions(sweep, workflow);
    }
  }

  /**
   * Lets `fn` start these workflows (every one by default), and tells it
   * their ARNs (one variable per workflow) and the deadlines it gives them.
   */
  grantStartTo(fn: BilboFunction, workflows: readonly WorkflowName[] = WORKFLOW_NAMES): void {
    for (const workflow of workflows) {
      const machine = this.stateMachines[workflow];
      machine.grantStartExecution(fn);
      fn.addEnvironment(stateMachineArnVariable(workflow), machine.stateMachineArn);
    }
    addEnvironment(
      fn,
      environmentOf(DEADLINES, { destroyTimeoutSeconds: String(this.settings.destroyTimeoutSeconds) }),
    );
  }

  /** Lets `fn` read how the executions of `workflow` go (DescribeExecution): their status, and output. */
  grantDescribeExecutions(fn: BilboFunction, workflow: WorkflowName): void {
    const machine = this.stateMachines[workflow];
    const executions = `execution:${machine.stateMachineName}:*`;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [regionalArn('states', executions)],
      }),
    );
    acknowledge(
      fn.role!,
      wildcardFinding('states', `execution:<${logicalIdOf(machine)}.Name>:*`),
      "Execution names are known only once started: DescribeExecution on the executions of bilbo's own state machine alone.",
    );
  }

  private stateMachine(workflow: WorkflowName): StateMachine {
    const { id, build, timeout } = WORKFLOW_DEFINITIONS[workflow];
    const steps = new Steps(new Construct(this, pascal(workflow)), this.tasks);
    const machine = new StateMachine(this, id, {
      definitionBody: DefinitionBody.fromChainable(build(steps)),
      comment: `bilbo ${workflow}: ${WORKFLOWS[workflow].purpose}`,
      stateMachineType: StateMachineType.STANDARD,
      timeout: timeout(this.settings),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, `${id}Logs`, { retention: RetentionDays.ONE_MONTH }),
        level: LogLevel.ALL,
        includeExecutionData: true,
      },
    });
    (machine.node.defaultChild as CfnResource).addMetadata(WORKFLOW_METADATA_KEY, workflow);
    for (const fn of this.tasks.all()) {
      acknowledge(
        machine.role,
        `IAM5[Resource::${arnInFinding(fn)}:*]`,
        "The LambdaInvoke grant also covers versions and aliases (`<arn>:*`) of bilbo's own task functions.",
      );
    }
    acknowledge(
      machine.role,
      'IAM5[Resource::*]',
      'CloudWatch Logs delivery (logs:*LogDelivery, PutResourcePolicy, DescribeLogGroups) and X-Ray ' +
        '(PutTraceSegments, PutTelemetryRecords, GetSampling*) do not support resource-level permissions.',
    );
    return machine;
  }
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
