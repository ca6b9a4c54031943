/**
 * The workflow registry: every workflow bilbo runs, what starting one takes
 * (its input, its execution name) and what it is for. Nothing else lists
 * workflows: the CDK app builds one state machine per entry
 * (infra/workflows/), the deployment contract names one ARN variable per
 * entry (lambdas/config.ts), and the Step Functions starter, the local
 * runner and the tests take their names from here.
 *
 * Adding a workflow: an entry here, its definition under infra/workflows/,
 * and its step handlers.
 */
import type { Cluster, RoleName } from '../../schemas/types.generated.ts';

/** What each workflow's execution receives as input. */
export interface WorkflowInputs {
  /** The kind's primary role is launched first; its address goes to the member roles. */
  create: { clusterId: string; primaryRole: RoleName; memberRoles: RoleName[] };
  /** `requestedAt`: when the destroy was asked for, the start of its wait (see lambdas/domain/deadlines.ts). */
  destroy: { clusterId: string; requestedAt: string };
  /** `roles`: whose services restart, in order (the kind says); `requestedAt` starts its deadline. */
  restart: { clusterId: string; requestedAt: string; roles: RoleName[] };
  /** `requestedAt`: when the pause was asked for, the start of its wait. */
  pause: { clusterId: string; requestedAt: string };
  /** `requestedAt`: when the resume was asked for, the start of its wait. */
  resume: { clusterId: string; requestedAt: string };
  /** The reaper's sweep: `dryRun` changes nothing; `requestedBy` names who asked (an admin, or the schedule). */
  sweep: { dryRun: boolean; requestedBy?: string };
}

/** A cluster's workflows are named after the cluster, and the record version that asked for them. */
type ClusterSubject = Pick<Cluster, 'id' | 'version'>;

/** What each workflow's execution is named after. */
export interface ExecutionSubjects {
  create: ClusterSubject;
  destroy: ClusterSubject;
  restart: ClusterSubject;
  pause: ClusterSubject;
  resume: ClusterSubject;
  /** A sweep has no cluster: its own id (`bilbo reap` reads the sweep by it). */
  sweep: { sweepId: string };
}

export type WorkflowName = keyof WorkflowInputs;

export interface WorkflowSpec<W extends WorkflowName> {
  /** One line for people: the state machine's comment and the docs. */
  readonly purpose: string;
  /**
   * The execution's name, derived from its subject: the cluster (and, for
   * workflows a cluster may run more than once, the record version that
   * asked for it), so a retried request finds the execution it started
   * instead of a second one; a sweep's own id.
   */
  executionName(subject: ExecutionSubjects[W]): string;
}

export const WORKFLOWS: { readonly [W in WorkflowName]: WorkflowSpec<W> } = {
  create: {
    purpose: "launch a cluster's machines, wait until it is ready and record READY; roll back on any failure",
    executionName: ({ id }) => `${id}-create`,
  },
  destroy: {
    purpose: 'terminate every machine of a cluster, confirm they are gone and record DESTROYED',
    executionName: ({ id, version }) => `${id}-destroy-v${version}`,
  },
  restart: {
    purpose:
      "restart a ready cluster's services (not its notebook), wait until it is ready again and record READY",
    executionName: ({ id, version }) => `${id}-restart-v${version}`,
  },
  pause: {
    purpose:
      'stop every machine of a ready cluster and record PAUSED; start them again (and wait as a resume does) when one cannot stop',
    executionName: ({ id, version }) => `${id}-pause-v${version}`,
  },
  resume: {
    purpose:
      "start a paused cluster's machines, refresh their addresses, wait until it is ready and record READY; stop them again on any failure",
    executionName: ({ id, version }) => `${id}-resume-v${version}`,
  },
  sweep: {
    purpose:
      'one sweep of the reaper: end idle and expired clusters (paused instead when work would be lost), settle stuck ones, remove orphans',
    executionName: ({ sweepId }) => sweepId,
  },
};

export const WORKFLOW_NAMES = Object.keys(WORKFLOWS) as WorkflowName[];

export function isWorkflowName(value: unknown): value is WorkflowName {
  return typeof value === 'string' && Object.hasOwn(WORKFLOWS, value);
}
