import type { ClusterInstance, RoleName } from '../../schemas/types.generated.ts';
import type { Machine, MachineState, RecordChanges } from './ports.ts';

/**
 * What a provider answers for an id it has no trace of: terminated, as the
 * MachineProvider contract says, and marked unseen (see Machine.unseen).
 * The Machine fields a provider cannot know are left empty.
 */
export function unseenMachine(id: string, stateReason: string): Machine {
  return {
    id,
    clusterId: '',
    role: 'worker',
    index: 0,
    state: 'terminated',
    privateIp: '',
    stateReason,
    unseen: true,
  };
}

/**
 * The idempotency token of a role's launch. EC2 keeps it on each instance
 * as its ClientToken, which no one can change afterwards: the EC2 provider
 * checks it before acting on an instance found by its (forgeable) tags.
 */
export function launchToken(clusterId: string, role: RoleName): string {
  return `${clusterId}-${role}`;
}

/**
 * The record's instances, each role's whole list (the store replaces a
 * role's list at once), in the order they were recorded.
 */
export function roleInstancesOf(instances: readonly ClusterInstance[]): RecordChanges['roleInstances'] {
  const byRole: Partial<Record<RoleName, ClusterInstance[]>> = {};
  for (const instance of instances) byRole[instance.role] = [...(byRole[instance.role] ?? []), instance];
  return byRole;
}

/** The record's instances, every one in `state`: what is written once bilbo knows they all are. */
export function everyInstanceIn(
  instances: readonly ClusterInstance[],
  state: MachineState,
): RecordChanges['roleInstances'] {
  return roleInstancesOf(instances.map((instance) => ({ ...instance, state })));
}
