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

/** What a machine's name is made of: the profile's instance_prefix, the cluster and the role. */
export interface MachineNameParts {
  instancePrefix?: string;
  clusterName: string;
  role: RoleName;
}

/**
 * A machine's name (EC2's `Name` tag): the prefix, the cluster, the role and
 * the machine's index within its role, `team-nightly-worker-3`; without an
 * index, the role's name every machine of a launch starts with.
 */
export function machineName(parts: MachineNameParts, index?: number): string {
  const name = `${parts.instancePrefix ?? ''}${parts.clusterName}-${parts.role}`;
  return index === undefined ? name : `${name}-${index}`;
}

/**
 * The name a launch gives all its machines at once: a launch of one machine
 * names it in full; a larger one gives each the role's name, and each is
 * then renamed with its index (MachineProvider.nameMachines).
 */
export function launchName(parts: MachineNameParts & { firstIndex: number; count: number }): string {
  return parts.count === 1 ? machineName(parts, parts.firstIndex) : machineName(parts);
}
