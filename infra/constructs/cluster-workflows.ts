import { type CfnResource, Duration } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  type IChainable,
  JsonPath,
  LogLevel,
  Map as MapState,
  Pass,
  Result,
  type State,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { WorkflowName } from '../../lambdas/domain/workflows.ts';
import { WORKFLOW_METADATA_KEY } from '../metadata.ts';
import { BilboFunction, type FunctionVpcPlacement } from './bilbo-function.ts';
import type { ClusterNetwork } from './cluster-network.ts';
import type { ClusterTable } from './cluster-table.ts';
import type { MachineAccess } from './machine-access.ts';
import { acknowledge, arnInFinding } from './nag.ts';

export interface ClusterWorkflowsProps {
  /** Every task function reads and writes it (and gets TABLE_NAME). */
  readonly table: ClusterTable;
  /** Grants each task the EC2/SSM access its step needs, and no more. */
  readonly machines: MachineAccess;
  /** The readiness probe runs in its subnets, with its probe security group. */
  readonly network: ClusterNetwork;
  /**
   * Extra environment for every task function, e.g. MACHINE_PROVIDER.
   * @default - none
   */
  readonly environment?: Record<string, string>;
}

interface TaskFunctionSpec {
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
}

const TASKS = {
  launchRole: {
    entry: 'lambdas/handlers/tasks/launch-role.ts',
    description: 'bilbo: launch every instance of one cluster role',
    timeout: Duration.minutes(2),
  },
  checkMachines: {
    entry: 'lambdas/handlers/tasks/check-machines.ts',
    description: "bilbo: look once at a cluster's machines (running or terminated)",
    timeout: Duration.seconds(30),
  },
  probeReady: {
    entry: 'lambdas/handlers/tasks/probe-ready.ts',
    description: "bilbo: poll a cluster's Dask dashboard until it is ready or a budget passes",
    timeout: Duration.minutes(5),
  },
  recordReady: {
    entry: 'lambdas/handlers/tasks/record-ready.ts',
    description: 'bilbo: record a created cluster as READY',
    timeout: Duration.seconds(30),
  },
  rollbackCreate: {
    entry: 'lambdas/handlers/tasks/rollback-create.ts',
    description: 'bilbo: terminate what a failed create launched and record FAILED',
    timeout: Duration.minutes(2),
  },
  terminateMachines: {
    entry: 'lambdas/handlers/tasks/terminate-machines.ts',
    description: "bilbo: terminate every machine carrying the cluster's tag",
    timeout: Duration.minutes(2),
  },
  recordDestroyed: {
    entry: 'lambdas/handlers/tasks/record-destroyed.ts',
    description: 'bilbo: record a destroyed cluster as DESTROYED',
    timeout: Duration.seconds(30),
  },
  recordDestroyFailed: {
    entry: 'lambdas/handlers/tasks/record-destroy-failed.ts',
    description: 'bilbo: record a destroy that could not finish',
    timeout: Duration.seconds(30),
  },
} as const satisfies Record<string, TaskFunctionSpec>;

type TaskName = keyof typeof TASKS;

/** What each task may do to machines and secrets beyond the table: the least its step needs. */
const ACCESS: Record<TaskName, (machines: MachineAccess, fn: BilboFunction) => void> = {
  launchRole: (machines, fn) => machines.grantLaunch(fn),
  // Describes a create's machines; while destroying, terminates the ones still found by tag.
  checkMachines: (machines, fn) => machines.grantTerminate(fn),
  // HTTP to the dashboards only: the workflow checks the machines between probe budgets.
  probeReady: () => {},
  recordReady: () => {},
  rollbackCreate: (machines, fn) => {
    machines.grantTerminate(fn);
    machines.grantRemoveSecrets(fn);
  },
  terminateMachines: (machines, fn) => {
    machines.grantTerminate(fn);
    machines.grantRemoveSecrets(fn);
  },
  recordDestroyed: () => {},
  recordDestroyFailed: () => {},
};

/** The saga compensations retry on any error: they are idempotent and must not be skipped. */
const COMPENSATION_RETRY = {
  errors: [Errors.ALL],
  maxAttempts: 3,
  interval: Duration.seconds(2),
  backoffRate: 2,
};

/**
 * The create and destroy workflows: Standard state machines (JSONPath, so
 * the local ASL interpreter runs the same definitions), each step a Lambda,
 * polling as check → Choice → Wait, and every failure routed to a
 * compensating step that retries.
 */
export class ClusterWorkflows extends Construct {
  readonly create: StateMachine;
  readonly destroy: StateMachine;
  /** Every task function, one per entry. */
  readonly functions: readonly BilboFunction[];
  private readonly fns: Record<TaskName, BilboFunction>;

  constructor(scope: Construct, id: string, props: ClusterWorkflowsProps) {
    super(scope, id);
    const functions = new Construct(this, 'Functions');
    this.fns = Object.fromEntries(
      (Object.entries(TASKS) as Array<[TaskName, TaskFunctionSpec]>).map(([name, spec]) => {
        const fn = new BilboFunction(functions, pascal(name), {
          ...spec,
          environment: props.environment,
          ...(name === 'probeReady' ? { vpcPlacement: probePlacement(props.network) } : {}),
        });
        props.table.grantReadWriteTo(fn);
        ACCESS[name](props.machines, fn);
        return [name, fn];
      }),
    ) as Record<TaskName, BilboFunction>;
    this.functions = Object.values(this.fns);

    this.create = this.stateMachine(
      'create',
      'CreateCluster',
      this.createDefinition(new Construct(this, 'Create')),
    );
    this.destroy = this.stateMachine(
      'destroy',
      'DestroyCluster',
      this.destroyDefinition(new Construct(this, 'Destroy')),
    );
  }

  /** Lets `fn` start both workflows, and tells it their ARNs (CREATE_/DESTROY_STATE_MACHINE_ARN). */
  grantStartTo(fn: BilboFunction): void {
    this.create.grantStartExecution(fn);
    this.destroy.grantStartExecution(fn);
    fn.addEnvironment('CREATE_STATE_MACHINE_ARN', this.create.stateMachineArn);
    fn.addEnvironment('DESTROY_STATE_MACHINE_ARN', this.destroy.stateMachineArn);
  }

  private createDefinition(scope: Construct): IChainable {
    const clusterId = { clusterId: JsonPath.stringAt('$.clusterId') };

    const rollback = this.invoke(scope, 'RollbackCreate', 'rollbackCreate', {
      ...clusterId,
      failedStep: JsonPath.stringAt('$.failedStep'),
      error: JsonPath.objectAt('$.error'),
    });
    rollback.addRetry(COMPENSATION_RETRY);
    rollback.next(
      new Fail(scope, 'CreateFailed', { error: 'ClusterCreateFailed', causePath: '$.error.Cause' }),
    );
    const saga = compensatedBy(scope, rollback);

    const launchScheduler = this.invoke(
      scope,
      'LaunchScheduler',
      'launchRole',
      { ...clusterId, role: 'scheduler' },
      { path: '$.scheduler', fields: ['schedulerAddress', 'dashboardUrl', 'machineIds'] },
    );
    const launchMembers = new MapState(scope, 'LaunchMembers', {
      itemsPath: '$.memberRoles',
      maxConcurrency: 1,
      itemSelector: {
        ...clusterId,
        role: JsonPath.stringAt('$$.Map.Item.Value'),
        schedulerAddress: JsonPath.stringAt('$.scheduler.schedulerAddress'),
      },
      resultPath: JsonPath.DISCARD,
    });
    launchMembers.itemProcessor(
      this.invoke(scope, 'LaunchMember', 'launchRole', {
        ...clusterId,
        role: JsonPath.stringAt('$.role'),
        schedulerAddress: JsonPath.stringAt('$.schedulerAddress'),
      }),
    );
    const checkRunning = this.invoke(
      scope,
      'CheckRunning',
      'checkMachines',
      { ...clusterId, want: 'running' },
      { path: '$.machines', fields: ['done', 'running', 'total'] },
    );
    const probeReady = this.invoke(scope, 'ProbeReady', 'probeReady', clusterId, {
      path: '$.probe',
      fields: ['ready', 'workersJoined', 'wantedWorkers'],
    });
    const recordReady = this.invoke(scope, 'RecordReady', 'recordReady', clusterId);

    saga(launchScheduler, 'launch-scheduler');
    saga(launchMembers, 'launch-members');
    saga(checkRunning, 'check-running');
    saga(probeReady, 'probe-ready');
    saga(recordReady, 'record-ready');

    const waitForRunning = new Wait(scope, 'WaitForRunning', {
      time: WaitTime.duration(Duration.seconds(2)),
    });
    const waitBeforeProbe = new Wait(scope, 'WaitBeforeProbe', {
      time: WaitTime.duration(Duration.seconds(1)),
    });
    recordReady.next(new Succeed(scope, 'Created'));
    // Between two probe budgets, look at the machines again: a lost one fails
    // the create at once, and the probe itself needs no EC2 access in the VPC.
    probeReady.next(
      new Choice(scope, 'Ready?')
        .when(Condition.booleanEquals('$.probe.ready', true), recordReady)
        .otherwise(waitBeforeProbe.next(checkRunning)),
    );
    return launchScheduler
      .next(launchMembers)
      .next(checkRunning)
      .next(
        new Choice(scope, 'AllRunning?')
          .when(Condition.booleanEquals('$.machines.done', true), probeReady)
          .otherwise(waitForRunning.next(checkRunning)),
      );
  }

  private destroyDefinition(scope: Construct): IChainable {
    const clusterId = { clusterId: JsonPath.stringAt('$.clusterId') };

    const recordFailed = this.invoke(scope, 'RecordDestroyFailed', 'recordDestroyFailed', {
      ...clusterId,
      failedStep: JsonPath.stringAt('$.failedStep'),
      error: JsonPath.objectAt('$.error'),
    });
    recordFailed.addRetry(COMPENSATION_RETRY);
    recordFailed.next(
      new Fail(scope, 'DestroyFailed', { error: 'ClusterDestroyFailed', causePath: '$.error.Cause' }),
    );
    const saga = compensatedBy(scope, recordFailed);

    const terminate = this.invoke(scope, 'TerminateMachines', 'terminateMachines', clusterId);
    const checkTerminated = this.invoke(
      scope,
      'CheckTerminated',
      'checkMachines',
      { ...clusterId, want: 'terminated' },
      { path: '$.machines', fields: ['done', 'running', 'total'] },
    );
    const recordDestroyed = this.invoke(scope, 'RecordDestroyed', 'recordDestroyed', clusterId);
    terminate.addRetry(COMPENSATION_RETRY);
    checkTerminated.addRetry(COMPENSATION_RETRY);

    saga(terminate, 'terminate-machines');
    saga(checkTerminated, 'check-terminated');
    saga(recordDestroyed, 'record-destroyed');

    const waitForTermination = new Wait(scope, 'WaitForTermination', {
      time: WaitTime.duration(Duration.seconds(2)),
    });
    return terminate
      .next(checkTerminated)
      .next(
        new Choice(scope, 'AllTerminated?')
          .when(
            Condition.booleanEquals('$.machines.done', true),
            recordDestroyed.next(new Succeed(scope, 'Destroyed')),
          )
          .otherwise(waitForTermination.next(checkTerminated)),
      );
  }

  /**
   * One Lambda step. The function's answer lands at `result.path`, trimmed
   * to `result.fields`; without `result` the step passes its input on.
   */
  private invoke(
    scope: Construct,
    id: string,
    task: TaskName,
    payload: Record<string, unknown>,
    result?: { path: string; fields: readonly string[] },
  ): LambdaInvoke {
    return new LambdaInvoke(scope, id, {
      lambdaFunction: this.fns[task],
      payload: TaskInput.fromObject(payload),
      payloadResponseOnly: false,
      retryOnServiceExceptions: true,
      taskTimeout: Timeout.duration(TASKS[task].timeout),
      ...(result
        ? {
            resultSelector: Object.fromEntries(
              result.fields.map((field) => [`${field}.$`, `$.Payload.${field}`]),
            ),
            resultPath: result.path,
          }
        : { resultPath: JsonPath.DISCARD }),
    });
  }

  private stateMachine(workflow: WorkflowName, id: string, definition: IChainable): StateMachine {
    const machine = new StateMachine(this, id, {
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, `${id}Logs`, { retention: RetentionDays.ONE_MONTH }),
        level: LogLevel.ALL,
        includeExecutionData: true,
      },
    });
    (machine.node.defaultChild as CfnResource).addMetadata(WORKFLOW_METADATA_KEY, workflow);
    for (const fn of this.functions) {
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

/**
 * The probe is the only function in the VPC: it reads the dashboards (8787)
 * and Jupyter (8888) on the instances' private addresses through the
 * security groups, and the clusters table through the VPC's DynamoDB gateway
 * endpoint. It needs nothing else (it no longer calls EC2), so the created
 * VPC's public subnets without a NAT gateway are enough: a Lambda gets no
 * public IP there, which is why CDK wants `allowPublicSubnet` said out loud.
 * In an imported VPC its subnets must reach DynamoDB on their own (an
 * endpoint or a NAT gateway).
 */
function probePlacement(network: ClusterNetwork): FunctionVpcPlacement {
  return { ...network.probePlacement, allowPublicSubnet: network.publicSubnets };
}

type Catchable = LambdaInvoke | MapState;

/**
 * The saga wiring: `saga(step, 'step-name')` sends every failure of `step`
 * to a `<Step>Failed` Pass that records the step name at `$.failedStep`
 * (the error is at `$.error`), then to the compensation.
 */
function compensatedBy(scope: Construct, compensation: State): (step: Catchable, failedStep: string) => void {
  return (step, failedStep) => {
    const marker = new Pass(scope, `${step.id}Failed`, {
      result: Result.fromString(failedStep),
      resultPath: '$.failedStep',
    });
    marker.next(compensation);
    step.addCatch(marker, { errors: [Errors.ALL], resultPath: '$.error' });
  };
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
