/**
 * The task table: one Lambda function per step handler of the registry in
 * lambdas/handlers/tasks/steps.ts, with what each may do — the least its
 * step needs — and the deployment variables it is given.
 */
import { type CfnResource, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BY_KIND_INDEX, LIVE_INDEX } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { environmentOf, PROBE, REAPER } from '../../lambdas/config.ts';
import { SWEEP_TASK_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import type { ReaperSettings } from '../../lambdas/domain/reaper/rules.ts';
import { TASK_NAMES, type TaskName, taskEntry } from '../../lambdas/handlers/tasks/task-names.ts';
import { addEnvironment, BilboFunction } from '../constructs/bilbo-function.ts';
import type { ClusterNetwork } from '../constructs/cluster-network.ts';
import { type ClusterTable, ITEM, type ItemAction, type TableAccess } from '../constructs/cluster-table.ts';
import type { MachineAccess } from '../constructs/machine-access.ts';
import { TASK_METADATA_KEY } from '../metadata.ts';

interface TaskFunctionSpec {
  readonly description: string;
  readonly timeout: Duration;
  /** Megabytes. @default 512 (BilboFunction's) */
  readonly memorySize?: number;
  /**
   * What its step does to the table's items, from the ClusterStore calls it makes
   * (lambdas/adapters/dynamodb/cluster-store.ts): get → GetItem; appendEvent →
   * ConditionCheckItem + PutItem; update → UpdateItem, + PutItem with an event;
   * transition → UpdateItem + PutItem, + DeleteItem into an ended state (it frees the name).
   * No task queries, but the sweep.
   */
  readonly tableItems: readonly ItemAction[];
  /** The queries its step makes (list → the indexes; the commands of a cluster → the table). @default none */
  readonly tableQueries?: Omit<TableAccess, 'items'>;
  /** Grants (and the variables that go with them) beyond the table's. */
  readonly access: (machines: MachineAccess, fn: BilboFunction, props: TaskFunctionsProps) => void;
  /** Runs in the cluster network, to reach the instances' private addresses. @default false */
  readonly inClusterNetwork?: boolean;
}

const TASKS: Readonly<Record<TaskName, TaskFunctionSpec>> = {
  launchRole: {
    description: 'bilbo: launch every instance of one cluster role',
    timeout: Duration.minutes(2),
    // get, appendEvent, update with an event
    tableItems: [ITEM.get, ITEM.put, ITEM.update, ITEM.conditionCheck],
    access: (machines, fn) => {
      machines.grantLaunch(fn);
      // Each instance of a many-instance launch is then renamed with its index.
      machines.grantNaming(fn);
      machines.tellSecretNames(fn);
    },
  },
  checkMachines: {
    description: "bilbo: look once at a cluster's machines (running or terminated)",
    timeout: Duration.seconds(30),
    // get, update (the endpoints), appendEvent
    tableItems: [ITEM.get, ITEM.put, ITEM.update, ITEM.conditionCheck],
    // Describes a create's machines and asks SSM whether they take commands yet;
    // while destroying, terminates the ones still found by tag; while pausing or
    // resuming, asks again for those not stopped or started yet.
    access: (machines, fn) => {
      machines.grantDescribe(fn);
      machines.grantInstanceActions(fn, [
        'ec2:TerminateInstances',
        'ec2:StopInstances',
        'ec2:StartInstances',
      ]);
      machines.grantCommandReachability(fn);
    },
  },
  probeReady: {
    description: "bilbo: poll a cluster's dashboard until it is ready or a budget passes",
    timeout: Duration.minutes(5),
    // get, update with an event
    tableItems: [ITEM.get, ITEM.put, ITEM.update],
    // HTTP to the dashboards, and the notebook's token to present: the workflow checks the machines between probe budgets.
    access: (machines, fn) => {
      addEnvironment(fn, environmentOf(PROBE, { network: 'private' }));
      machines.grantReadSecrets(fn);
    },
    inClusterNetwork: true,
  },
  runInit: {
    description:
      "bilbo: run the profile's init commands on a created cluster's instances, one look at a time",
    timeout: Duration.seconds(30),
    // get, appendEvent; the command records: get, put, update (a put)
    tableItems: [ITEM.get, ITEM.put, ITEM.conditionCheck],
    // A setup command names the secrets the instance reads (a git password): names only, never values.
    access: (machines, fn) => {
      machines.grantRunCommands(fn);
      machines.tellSecretNames(fn);
    },
  },
  recordReady: {
    description: 'bilbo: record a created cluster as READY',
    timeout: Duration.seconds(30),
    // get, transition to READY
    tableItems: [ITEM.get, ITEM.put, ITEM.update],
    access: () => {},
  },
  rollbackCreate: {
    description: 'bilbo: terminate what a failed create launched and record FAILED',
    timeout: Duration.minutes(2),
    // appendEvent, get, transition to FAILED
    tableItems: [ITEM.get, ITEM.put, ITEM.update, ITEM.delete, ITEM.conditionCheck],
    access: (machines, fn) => {
      machines.grantTerminate(fn);
      machines.grantRemoveSecrets(fn);
    },
  },
  terminateMachines: {
    description: "bilbo: terminate every machine carrying the cluster's tag",
    timeout: Duration.minutes(2),
    // get, appendEvent
    tableItems: [ITEM.get, ITEM.put, ITEM.conditionCheck],
    access: (machines, fn) => {
      machines.grantTerminate(fn);
      machines.grantRemoveSecrets(fn);
    },
  },
  recordDestroyed: {
    description: 'bilbo: record a destroyed cluster as DESTROYED',
    timeout: Duration.seconds(30),
    // get, transition to DESTROYED
    tableItems: [ITEM.get, ITEM.put, ITEM.update, ITEM.delete],
    access: () => {},
  },
  recordDestroyFailed: {
    description: 'bilbo: record a destroy that could not finish',
    timeout: Duration.seconds(30),
    // get, transition to FAILED
    tableItems: [ITEM.get, ITEM.put, ITEM.update, ITEM.delete],
    access: () => {},
  },
  restartRole: {
    description: "bilbo: ask a cluster role's instances to restart their services",
    timeout: Duration.seconds(30),
    // get, update with an event
    tableItems: [ITEM.get, ITEM.put, ITEM.update],
    access: (machines, fn) => machines.grantSendCommands(fn),
  },
  checkRestart: {
    description: "bilbo: look once at how a role's restart goes",
    timeout: Duration.seconds(30),
    // get, appendEvent
    tableItems: [ITEM.get, ITEM.put, ITEM.conditionCheck],
    access: (machines, fn) => machines.grantReadCommands(fn),
  },
  recordRestarted: {
    description: 'bilbo: record a restarted cluster as READY',
    timeout: Duration.seconds(30),
    // get, transition to READY
    tableItems: [ITEM.get, ITEM.put, ITEM.update],
    access: () => {},
  },
  recordRestartFailed: {
    description: 'bilbo: record a restart that could not finish: READY if the services answer, else FAILED',
    timeout: Duration.seconds(30),
    // get, transition to READY or FAILED
    tableItems: [ITEM.get, ITEM.put, ITEM.update, ITEM.delete],
    // One look at the dashboards, from inside the cluster network, like the probe.
    access: (machines, fn) => {
      addEnvironment(fn, environmentOf(PROBE, { network: 'private' }));
      machines.grantReadSecrets(fn);
    },
    inClusterNetwork: true,
  },
  stopMachines: {
    description: 'bilbo: ask every machine of a cluster to stop (a pause)',
    timeout: Duration.minutes(2),
    // get, appendEvent
    tableItems: [ITEM.get, ITEM.put, ITEM.conditionCheck],
    access: (machines, fn) => machines.grantStopOrStart(fn, 'ec2:StopInstances'),
  },
  recordPaused: {
    description: 'bilbo: record a paused cluster as PAUSED',
    timeout: Duration.seconds(30),
    // get, transition to PAUSED
    tableItems: [ITEM.get, ITEM.put, ITEM.update],
    access: () => {},
  },
  recordPauseFailed: {
    description: 'bilbo: start again what a failed pause stopped and record RESUMING, or FAILED',
    timeout: Duration.minutes(2),
    // get, transition to RESUMING or FAILED
    tableItems: [ITEM.get, ITEM.put, ITEM.update, ITEM.delete],
    access: (machines, fn) => machines.grantStopOrStart(fn, 'ec2:StartInstances'),
  },
  startMachines: {
    description: 'bilbo: ask every machine of a paused cluster to start (a resume)',
    timeout: Duration.minutes(2),
    // get, appendEvent
    tableItems: [ITEM.get, ITEM.put, ITEM.conditionCheck],
    access: (machines, fn) => machines.grantStopOrStart(fn, 'ec2:StartInstances'),
  },
  recordResumed: {
    description: 'bilbo: record a resumed cluster as READY',
    timeout: Duration.seconds(30),
    // get, transition to READY
    tableItems: [ITEM.get, ITEM.put, ITEM.update],
    access: () => {},
  },
  recordResumeFailed: {
    description: 'bilbo: stop again what a failed resume started and record PAUSED, or FAILED',
    timeout: Duration.minutes(2),
    // get, transition to PAUSED or FAILED
    tableItems: [ITEM.get, ITEM.put, ITEM.update, ITEM.delete],
    access: (machines, fn) => machines.grantStopOrStart(fn, 'ec2:StopInstances'),
  },
  sweep: {
    description: 'bilbo: the reaper: one sweep of every live cluster (idle, expired, stuck, orphans)',
    timeout: Duration.seconds(SWEEP_TASK_TIMEOUT_SECONDS),
    // The reaper benchmark's sweep of 10,000 live clusters peaked at 470 MiB: twice that, and
    // Lambda's CPU share grows with memory.
    memorySize: 1024,
    // get, update (idleSince, health) with an event, appendEvent, transition (to DESTROYING,
    // PAUSING, or a stuck cluster to FAILED, which frees its name); list queries the live
    // index (and, the first time on a table, marks older records through byKind), a
    // cluster's remote commands the table.
    tableItems: [ITEM.get, ITEM.put, ITEM.update, ITEM.delete, ITEM.conditionCheck],
    tableQueries: { queryTable: true, queryIndexes: [BY_KIND_INDEX, LIVE_INDEX] },
    // The starts of the destroy and pause workflows, and the looks at the cluster
    // workflows' executions, are granted with the state machines (ClusterWorkflows).
    access: (machines, fn, props) => {
      // Idle looks at the services, from inside the cluster network, as the probe does.
      addEnvironment(fn, environmentOf(PROBE, { network: 'private' }));
      machines.grantReadSecrets(fn);
      // Health: the machines of READY clusters. Stuck clusters: a create rolled back
      // (terminate, remove its secrets), a pause or resume stopped.
      machines.grantDescribe(fn);
      machines.grantInstanceActions(fn, ['ec2:TerminateInstances', 'ec2:StopInstances']);
      machines.grantRemoveSecrets(fn);
      // Orphans: the deployment's instances (above) and volumes no live cluster owns.
      machines.grantVolumeRemoval(fn);
      // The unsaved-work check on a notebook before its cluster ends.
      machines.grantRunCommands(fn);
      addEnvironment(fn, reaperEnvironment(props.reaper));
    },
    inClusterNetwork: true,
  },
};

/** The reaper's settings as the sweep function's variables (lambdas/config.ts REAPER). */
function reaperEnvironment(settings: ReaperSettings): Record<string, string> {
  return environmentOf(
    REAPER,
    Object.fromEntries(Object.entries(settings).map(([name, value]) => [name, String(value)])),
  );
}

export interface TaskFunctionsProps {
  /** Each task function takes its own actions on it (tableItems). */
  readonly table: ClusterTable;
  /** Grants each task the EC2/SSM access its step needs, and no more. */
  readonly machines: MachineAccess;
  /** Where the functions that watch instances' private addresses run. */
  readonly network: ClusterNetwork;
  /** The deployment's reaper settings: the sweep's. */
  readonly reaper: ReaperSettings;
}

/** One function per task, each with its own role, log group and least-privilege grants. */
export class TaskFunctions extends Construct {
  private readonly functions: Record<TaskName, BilboFunction>;

  constructor(scope: Construct, id: string, props: TaskFunctionsProps) {
    super(scope, id);
    this.functions = Object.fromEntries(
      TASK_NAMES.map((task) => {
        const spec = TASKS[task];
        const fn = new BilboFunction(this, pascal(task), {
          entry: taskEntry(task),
          description: spec.description,
          timeout: spec.timeout,
          ...(spec.memorySize === undefined ? {} : { memorySize: spec.memorySize }),
          ...(spec.inClusterNetwork ? { vpcPlacement: props.network.probePlacement } : {}),
        });
        (fn.node.defaultChild as CfnResource).addMetadata(TASK_METADATA_KEY, task);
        props.table.grantTo(fn, { items: spec.tableItems, ...spec.tableQueries });
        spec.access(props.machines, fn, props);
        return [task, fn];
      }),
    ) as Record<TaskName, BilboFunction>;
  }

  of(task: TaskName): BilboFunction {
    return this.functions[task];
  }

  /** The longest a task's invocation may run: the state's own timeout. */
  timeoutOf(task: TaskName): Duration {
    return TASKS[task].timeout;
  }

  all(): BilboFunction[] {
    return Object.values(this.functions);
  }
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
