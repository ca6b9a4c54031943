import type { ClusterInstance, RoleName } from '../../../schemas/types.generated.ts';
import { ProvisioningError } from '../errors.ts';
import { kindOf } from '../kinds/index.ts';
import { networkForPeople } from '../kinds/kind.ts';
import { launchToken, type MachineNameParts, machineName } from '../machines.ts';
import type { ClusterStore, Machine, MachineProvider, SecretNames } from '../ports.ts';
import { loadCluster } from './load-cluster.ts';

export interface LaunchRoleInput {
  clusterId: string;
  role: RoleName;
  /** The primary role's address: every role but the primary is given it. */
  primaryAddress?: string;
}

export interface LaunchRoleOutput {
  machineIds: string[];
  /** For the primary role: the address the other roles are given. */
  primaryAddress?: string;
}

export interface LaunchRoleDeps {
  store: ClusterStore;
  provider: MachineProvider;
  secrets: SecretNames;
}

/**
 * Launches every instance of one role in one provider call, tagged with
 * the cluster at launch, and records them; then gives each instance of a
 * many-instance role its own name, with its index. The idempotency token
 * makes a retried step return the first call's instances instead of
 * launching twice (and names them again: naming is idempotent).
 */
export async function launchRole(input: LaunchRoleInput, deps: LaunchRoleDeps): Promise<LaunchRoleOutput> {
  const cluster = await loadCluster(deps.store, input.clusterId);
  const rolePlan = cluster.plan.roles.find((role) => role.role === input.role);
  if (!rolePlan) throw new Error(`the plan of ${cluster.name} has no ${input.role} role`);
  if (cluster.state !== 'CREATING') {
    // Destroyed while being created: machines launched now would outlive the destroy.
    throw new ProvisioningError(
      `${cluster.name} is ${cluster.state}, no longer being created: launching nothing`,
    );
  }

  const what = rolePlan.count === 1 ? input.role : `${rolePlan.count} ${input.role}s`;
  await deps.store.appendEvent(cluster.id, { step: `launch-${input.role}`, message: `launching ${what}` });

  const kind = kindOf(cluster.plan.kind);
  const naming = {
    clusterName: cluster.name,
    ...(cluster.plan.instancePrefix !== undefined ? { instancePrefix: cluster.plan.instancePrefix } : {}),
  };
  const machines = await deps.provider.launch({
    clusterId: cluster.id,
    owner: cluster.owner,
    role: input.role,
    firstIndex: 0,
    count: rolePlan.count,
    instance: rolePlan.instance,
    instanceType: rolePlan.instanceType,
    idempotencyToken: launchToken(cluster.id, input.role),
    bootstrap: kind.bootstrap(cluster.id, rolePlan, {
      ...(input.primaryAddress ? { primaryAddress: input.primaryAddress } : {}),
      secrets: deps.secrets,
    }),
    ...naming,
  });

  const complete = machines.length >= rolePlan.count;
  const instances = machines.map(toClusterInstance);
  const primary = complete && input.role === kind.primaryRole(cluster.plan) ? instances[0] : undefined;
  const primaryAddress = primary ? kind.primaryAddress(primary) : undefined;
  // The role's whole list, replacing any earlier one: a retried launch records no duplicates.
  await deps.store.update(cluster.id, {
    changes: {
      roleInstances: { [input.role]: instances },
      // Its private address is known at launch; public ones once it runs (check-machines).
      ...(primary ? kind.endpoints([primary], networkForPeople(cluster.plan)) : {}),
    },
    event: { step: `launch-${input.role}`, message: launchedMessage(what, machines, primaryAddress) },
  });
  if (!complete) {
    // Recorded above, so the rollback and the user both see what did start.
    throw new ProvisioningError(
      `asked for ${what}, the provider launched ${machines.length}: not enough capacity for the ${input.role} role`,
    );
  }
  // Only once recorded: whatever naming does, the rollback knows every machine.
  await nameEach(cluster.id, machines, { ...naming, role: input.role }, deps);
  return { machineIds: machines.map((machine) => machine.id), ...(primaryAddress ? { primaryAddress } : {}) };
}

/**
 * Gives each machine of a many-machine launch its own name, with its index
 * (a launch names all its machines alike). For show only, so never fatal:
 * a machine that could not be renamed keeps its role's name, and an event
 * says so.
 */
async function nameEach(
  clusterId: string,
  machines: readonly Machine[],
  parts: MachineNameParts,
  deps: LaunchRoleDeps,
): Promise<void> {
  if (machines.length < 2 || !deps.provider.nameMachines) return;
  const names = machines.map((machine) => ({ id: machine.id, name: machineName(parts, machine.index) }));
  try {
    await deps.provider.nameMachines(names);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await deps.store.appendEvent(clusterId, {
      step: `launch-${parts.role}`,
      message: `could not give every ${parts.role} its own name (${reason}); the rest keep the name ${machineName(parts)}`,
    });
  }
}

function toClusterInstance(machine: Machine): ClusterInstance {
  return {
    id: machine.id,
    role: machine.role,
    index: machine.index,
    privateIp: machine.privateIp,
    ...(machine.publicIp ? { publicIp: machine.publicIp } : {}),
    state: machine.state,
    ...(machine.ports ? { ports: machine.ports } : {}),
  };
}

function launchedMessage(what: string, machines: Machine[], primaryAddress: string | undefined): string {
  const ids = machines.map((machine) => machine.id).join(', ');
  return primaryAddress ? `launched ${what} at ${primaryAddress} (${ids})` : `launched ${what} (${ids})`;
}
