/**
 * What every ClusterStore's writes share: the fields a change may not
 * touch, instances kept per role, and why a refused write was refused
 * (told from the record as it was, which the write itself hands back).
 */
import commonSchema from '../../schemas/api/common.schema.json' with { type: 'json' };
import type { ClusterInstance, ClusterState, RoleName } from '../../schemas/types.generated.ts';
import {
  type BilboError,
  ClusterIdNotFoundError,
  ConcurrentUpdateError,
  IllegalTransitionError,
} from '../domain/errors.ts';
import type { NewEvent, RecordChanges, TransitionRequest, UpdateRequest } from '../domain/ports.ts';

/** The order a record lists its instances in: the schema's order of the roles. */
export const ROLE_ORDER = commonSchema.definitions.role.enum as readonly RoleName[];

export type RoleInstances = Partial<Record<RoleName, ClusterInstance[]>>;

/** Fields a change may never set: identity, what the store manages, the plan, `instances` (see roleInstances). */
const FIXED_FIELDS = new Set([
  'id',
  'name',
  'owner',
  'state',
  'version',
  'createdAt',
  'updatedAt',
  'plan',
  'instances',
]);

/** A transition or an update, as a store writes it. */
export interface RecordWrite {
  /** Checked by the write when given: the record's name. */
  name?: string;
  /** The states the write accepts; absent: any. */
  from?: readonly ClusterState[];
  /** The new state; absent for an update. */
  to?: ClusterState;
  expectedVersion?: number;
  changes: RecordChanges;
  event?: NewEvent;
}

/** What a refused write knows of the record as it was. */
export interface OldRecord {
  name?: string;
  state?: ClusterState;
  version?: number;
}

export function transitionWrite(request: TransitionRequest): RecordWrite {
  return checked({ ...request, changes: request.changes ?? {} });
}

export function updateWrite(request: UpdateRequest): RecordWrite {
  const { inStates, ...rest } = request;
  return checked({ ...rest, ...(inStates ? { from: inStates } : {}) });
}

/** Whether the record as it is lets the write happen. */
export function accepts(write: RecordWrite, record: Required<OldRecord>): boolean {
  return (
    (write.name === undefined || record.name === write.name) &&
    (write.from === undefined || write.from.includes(record.state)) &&
    (write.expectedVersion === undefined || record.version === write.expectedVersion)
  );
}

/** Why the write was refused, from the record as it was (undefined: there was none). */
export function refusal(id: string, write: RecordWrite, old: OldRecord | undefined): Error {
  if (!old) return new ClusterIdNotFoundError(id);
  if (write.name !== undefined && old.name !== write.name) {
    return new Error(`cluster ${id} is named ${old.name}, not ${write.name}`);
  }
  if (write.expectedVersion !== undefined && old.version !== write.expectedVersion) {
    return new ConcurrentUpdateError(
      `Cluster ${id} is at version ${old.version}, not ${write.expectedVersion}: someone else changed it. Read it again and retry.`,
    );
  }
  if (old.state && write.from && !write.from.includes(old.state)) {
    if (write.to) return new IllegalTransitionError(old.state, write.to);
    return new ConcurrentUpdateError(
      `Cluster ${id} is ${old.state}: this change is made only while it is ${write.from.join(' or ')}.`,
    );
  }
  return concurrentWrite(id);
}

/** Two writes met at the same moment and this one lost; nothing was written. */
export function concurrentWrite(id: string, cause?: unknown): BilboError {
  return new ConcurrentUpdateError(
    `Cluster ${id} was changed by another request at the same moment; try again.`,
    cause === undefined ? {} : { cause },
  );
}

export function groupByRole(instances: readonly ClusterInstance[]): RoleInstances {
  const grouped: RoleInstances = {};
  for (const instance of instances) grouped[instance.role] = [...(grouped[instance.role] ?? []), instance];
  return grouped;
}

export function inRoleOrder(roleInstances: RoleInstances): ClusterInstance[] {
  return ROLE_ORDER.flatMap((role) => roleInstances[role] ?? []);
}

function checked(write: RecordWrite): RecordWrite {
  for (const field of Object.keys(write.changes)) {
    if (FIXED_FIELDS.has(field)) throw new Error(`a change may not set the cluster's ${field}`);
  }
  if (write.from?.length === 0) throw new Error('a write must accept at least one state');
  return write;
}
