import type { ClusterInstance, RoleName, RolePlan } from '../../../schemas/types.generated.ts';
import { ProvisioningError } from '../errors.ts';
import { dashboardUrlOf, schedulerAddressOf } from '../kinds/dask/processes.ts';
import { DASK_PORTS } from '../kinds/dask/user-data.ts';
import type { ClusterStore, Machine, MachineProvider, RoleBootstrap, SecretNames } from '../ports.ts';
import { loadCluster, updateLatest } from './record-updates.ts';

export interface LaunchRoleInput {
  clusterId: string;
  role: RoleName;
  /** Required for every role but the scheduler. */
  schedulerAddress?: string;
}

export interface LaunchRoleOutput {
  machineIds: string[];
  schedulerAddress?: string;
  dashboardUrl?: string;
}

export interface LaunchRoleDeps {
  store: ClusterStore;
  provider: MachineProvider;
  secrets: SecretNames;
}

/**
 * Launches every instance of one role in one provider call, tagged with
 * the cluster at launch, and records them. The idempotency token makes a
 * retried step return the first call's instances instead of launching twice.
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

  const machines = await deps.provider.launch({
    clusterId: cluster.id,
    clusterName: cluster.name,
    owner: cluster.owner,
    role: input.role,
    firstIndex: 0,
    count: rolePlan.count,
    instance: rolePlan.instance,
    instanceType: rolePlan.instanceType,
    idempotencyToken: `${cluster.id}-${input.role}`,
    bootstrap: roleBootstrap(cluster.id, rolePlan, input.schedulerAddress, deps.secrets),
    ...(cluster.plan.instancePrefix !== undefined ? { instancePrefix: cluster.plan.instancePrefix } : {}),
  });

  const complete = machines.length >= rolePlan.count;
  const addresses: SchedulerEndpoints | Record<string, never> =
    complete && input.role === 'scheduler'
      ? schedulerEndpoints(machines, cluster.plan.privateCommand === true)
      : {};
  await updateLatest(
    deps.store,
    cluster.id,
    (latest) => ({
      instances: mergeInstances(latest.instances ?? [], machines.map(toClusterInstance)),
      ...addresses,
    }),
    {
      step: `launch-${input.role}`,
      message: launchedMessage(
        what,
        machines,
        'schedulerAddress' in addresses ? addresses.schedulerAddress : undefined,
      ),
    },
  );
  if (!complete) {
    // Recorded above, so the rollback and the user both see what did start.
    throw new ProvisioningError(
      `asked for ${what}, the provider launched ${machines.length}: not enough capacity for the ${input.role} role`,
    );
  }
  return { machineIds: machines.map((machine) => machine.id), ...addresses };
}

interface SchedulerEndpoints {
  schedulerAddress: string;
  /** For people: the public address unless the profile asks for private ones. */
  dashboardUrl: string;
  /** From inside the cluster's network: what the readiness probe looks at on AWS. */
  privateDashboardUrl: string;
}

function schedulerEndpoints(machines: Machine[], privateCommand: boolean): SchedulerEndpoints {
  const scheduler = machines[0];
  if (!scheduler) throw new Error('the provider launched no scheduler');
  const dashboardPort = scheduler.ports?.dashboard ?? DASK_PORTS.dashboard;
  const privateDashboardUrl = dashboardUrlOf(scheduler.privateIp, dashboardPort);
  return {
    // Workers reach the scheduler inside the cluster's network.
    schedulerAddress: schedulerAddressOf(
      scheduler.privateIp,
      scheduler.ports?.scheduler ?? DASK_PORTS.scheduler,
    ),
    dashboardUrl:
      scheduler.publicIp && !privateCommand
        ? dashboardUrlOf(scheduler.publicIp, dashboardPort)
        : privateDashboardUrl,
    privateDashboardUrl,
  };
}

/** What the role's machines start; secrets travel by name only. */
function roleBootstrap(
  clusterId: string,
  rolePlan: RolePlan,
  schedulerAddress: string | undefined,
  secrets: SecretNames,
): RoleBootstrap {
  const notebook = rolePlan.notebook;
  return {
    kind: 'dask',
    initCommands: rolePlan.instance.init_cmd,
    ...(schedulerAddress ? { schedulerAddress } : {}),
    ...(rolePlan.dask ? { dask: rolePlan.dask } : {}),
    ...(notebook
      ? {
          notebook: {
            ...(notebook.workdir !== undefined ? { workdir: notebook.workdir } : {}),
            ...(notebook.gitRepositories ? { gitRepositories: notebook.gitRepositories } : {}),
            ...(notebook.gitUser !== undefined ? { gitUser: notebook.gitUser } : {}),
            ...(notebook.gitEmail !== undefined ? { gitEmail: notebook.gitEmail } : {}),
          },
          secrets: {
            jupyterToken: secrets.nameOf(clusterId, 'jupyter-token'),
            ...(notebook.hasGitPassword ? { gitPassword: secrets.nameOf(clusterId, 'git-password') } : {}),
          },
        }
      : {}),
  };
}

function toClusterInstance(machine: Machine): ClusterInstance {
  return {
    id: machine.id,
    role: machine.role,
    index: machine.index,
    privateIp: machine.privateIp,
    ...(machine.publicIp ? { publicIp: machine.publicIp } : {}),
    ...(machine.ports ? { ports: machine.ports } : {}),
  };
}

function mergeInstances(known: ClusterInstance[], launched: ClusterInstance[]): ClusterInstance[] {
  const ids = new Set(launched.map((instance) => instance.id));
  return [...known.filter((instance) => !ids.has(instance.id)), ...launched];
}

function launchedMessage(what: string, machines: Machine[], schedulerAddress: string | undefined): string {
  const ids = machines.map((machine) => machine.id).join(', ');
  return schedulerAddress ? `launched ${what} at ${schedulerAddress} (${ids})` : `launched ${what} (${ids})`;
}
