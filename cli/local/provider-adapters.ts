/**
 * What `bilbo local` runs clusters on: local Dask processes (the default),
 * or real EC2 with the caller's credentials — the original bilbo's
 * single-user mode — with the adapters the Lambdas use on AWS.
 */
import { join } from 'node:path';
import { LocalRemoteCommands } from '../../lambdas/adapters/local/local-commands.ts';
import { LocalPreflight } from '../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import { pythonFor } from '../../lambdas/adapters/local/python-runtime.ts';
import { LocalServiceRestarter } from '../../lambdas/adapters/local/service-restarter.ts';
import { KINDS } from '../../lambdas/domain/kinds/index.ts';
import type {
  InstanceTypeCatalog,
  LaunchPreflight,
  MachineProvider,
  RemoteCommandRunner,
  SecretStore,
  ServiceRestarter,
} from '../../lambdas/domain/ports.ts';
import type { ProbeSettings } from '../../lambdas/domain/workflow/probe-ready.ts';

export interface Ec2ProviderChoice {
  kind: 'ec2';
  subnetIds: string[];
  securityGroupId: string;
  /** Groups profiles may add (instance.security_group); none by default. */
  allowedSecurityGroupIds?: string[];
  instanceProfileArn: string;
  defaultAmi?: string;
}

export type LocalProviderChoice = { kind: 'local' } | Ec2ProviderChoice;

export interface ProviderAdapters {
  provider: MachineProvider;
  /** Runs commands on the machines: local processes, or SSM Run Command on EC2. */
  remote: RemoteCommandRunner;
  catalog: InstanceTypeCatalog;
  preflight: LaunchPreflight;
  secrets: SecretStore;
  /** Restarts the services of a cluster's machines: their processes, or their systemd units. */
  services: ServiceRestarter;
  processes?: LocalProcessProvider;
  /** Which dashboard address the readiness probe looks at from here. */
  probeNetwork: ProbeSettings['network'];
  /**
   * EC2 instances outlive the control plane, as in the original bilbo;
   * local processes end with it (and their clusters are destroyed).
   */
  machinesOutliveThePlane: boolean;
}

/** Every program a kind's local processes need, found on this machine (a clear error when one is missing). */
export async function localPrograms(
  env: Readonly<Record<string, string | undefined>>,
): Promise<Record<string, string>> {
  const programs: Record<string, string> = {};
  for (const kind of Object.values(KINDS)) {
    programs[kind.localRuntime.program] = await pythonFor(env, kind.localRuntime);
  }
  return programs;
}

export async function localAdapters(options: {
  home: string;
  log: (line: string) => void;
}): Promise<ProviderAdapters> {
  const programs = await localPrograms(process.env);
  const stateDir = join(options.home, 'local');
  // The notebook's token, read by its process at start as an instance reads it from SSM at boot,
  // and the secrets of remote commands (a git password), read when each starts.
  const secrets = new MemorySecretStore();
  const processes = new LocalProcessProvider({ stateDir, programs, secrets });
  const leftovers = await processes.registry.removeLeftovers();
  if (leftovers.length > 0) options.log(`removed ${leftovers.length} process(es) left by an earlier run`);
  return {
    provider: processes,
    processes,
    remote: new LocalRemoteCommands({
      stateDir,
      registry: processes.registry,
      python: programs.python ?? 'python3',
      secrets,
    }),
    catalog: new LocalMachineCatalog(),
    preflight: new LocalPreflight(programs),
    secrets,
    services: new LocalServiceRestarter(processes),
    probeNetwork: 'public',
    machinesOutliveThePlane: false,
  };
}

/**
 * Real EC2 from this machine: the Lambdas' adapters with the caller's
 * credentials and region, probing the instances' public addresses (private
 * ones when a profile sets private_command). Clusters outlive the control
 * plane, as in the original bilbo.
 */
export async function ec2Adapters(
  choice: Ec2ProviderChoice,
  where: { region: string; deploymentId: string },
  log: (line: string) => void,
): Promise<ProviderAdapters> {
  const { region, deploymentId } = where;
  const { awsAdapters } = await import('../../lambdas/adapters/aws-adapters.ts');
  const adapters = awsAdapters({
    region,
    deploymentId,
    warn: log,
    subnetIds: choice.subnetIds,
    clusterSecurityGroupId: choice.securityGroupId,
    ...(choice.allowedSecurityGroupIds ? { allowedSecurityGroupIds: choice.allowedSecurityGroupIds } : {}),
    instanceProfileArn: choice.instanceProfileArn,
    ...(choice.defaultAmi ? { defaultAmi: choice.defaultAmi } : {}),
  });
  log(`clusters run on EC2 in ${region}`);
  return {
    ...adapters,
    probeNetwork: 'public',
    machinesOutliveThePlane: true,
  };
}
