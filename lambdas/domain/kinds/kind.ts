/**
 * What a cluster kind (Dask today, Ray later) tells the rest of bilbo.
 * Everything kind-specific lives behind this interface, in one folder per
 * kind: the workflow steps, the providers, the probe and the stack speak
 * of roles, ports and endpoints, and ask the cluster's kind for the rest.
 */
import type {
  Cluster,
  ClusterInstance,
  InstanceSpec,
  InstanceTypeFacts,
  Plan,
  Profile,
  ResolvedInstance,
  RoleName,
  RolePlan,
} from '../../../schemas/types.generated.ts';
import type {
  HttpAnswer,
  LaunchRequest,
  ProbeRequest,
  ProcessSpec,
  RecordChanges,
  RemoteScript,
  SecretKey,
  SecretNames,
} from '../ports.ts';

export type KindName = Plan['kind'];

/** Which of an instance's addresses: inside the cluster's network, or the public one. */
export type Network = 'private' | 'public';

/** A port the kind's machines listen on. */
export interface KindPort {
  readonly number: number;
  /** Who reaches it, for the security group rule's description. */
  readonly description: string;
  /** The readiness probe looks at it (from inside the cluster's network). */
  readonly probed: boolean;
}

/** The roles of a profile, planned: instance types looked up, members sized. */
export interface KindPlan {
  /** In launch order, the primary role first. */
  roles: RolePlan[];
  /** Worker processes the cluster will run. */
  totalWorkers: number;
  /** Worker processes that must have joined before the cluster is READY. */
  wantedWorkers: number;
  notes: string[];
}

/** The record fields a kind's endpoints fill in: addresses and URLs. */
export type EndpointFields = Omit<RecordChanges, 'roleInstances'>;

/** What the readiness probe's answers say about a cluster. */
export interface ReadinessVerdict {
  ready: boolean;
  /** The cluster's dashboard answers. */
  dashboardUp: boolean;
  workersJoined: number;
  wantedWorkers: number;
  /** What is still missing, in words, when not ready: "the Dask dashboard did not answer". */
  missing?: string;
}

/** What the reaper knows from its last look, for this one. */
export interface ActivityLook {
  /** The last look's mark (the record's `activityMark`), to tell what moved since. */
  lastMark?: string;
  /** The profile's idle_ignores_clients: connected clients do not keep the cluster. */
  ignoreClients: boolean;
}

/** In use, idle, or unknown (no answer: never counted as idle). */
export interface ActivityVerdict {
  state: 'active' | 'idle' | 'unknown';
  /** Why, in words: "2 Dask clients connected". */
  why: string;
  /** What the next look compares with (opaque to all but the kind). */
  mark?: string;
}

/** A Python module a program must be able to import, and how to install it (for the error message). */
export interface PythonModule {
  module: string;
  install: string;
}

/** What a machine needs from this machine's programs to run the kind's processes locally. */
export interface LocalRuntime extends PythonModule {
  /** The program the kind's process specs name: a Python interpreter, found at start-up. */
  program: 'python';
  /** What some roles need besides, checked before a cluster that has them is recorded. */
  roleModules: Readonly<Partial<Record<RoleName, PythonModule>>>;
}

/**
 * A command a role's machines run once, at create, before the profile's
 * init_cmd and under the same rules (a record, an event, init_fail): what
 * the kind itself sets up once the services answer, e.g. a notebook's git
 * clones.
 */
export interface SetupCommand {
  /** What it does, as its record and its event name it: `git clone https://…`. Never a secret. */
  what: string;
  /** What runs; absent `user`: the instance's service user, in the role's command workdir. */
  script: Omit<RemoteScript, 'timeoutSeconds' | 'comment'>;
}

export interface ClusterKind<Bootstrap extends { kind: KindName }> {
  readonly name: KindName;
  /** How a profile that asks for no role asks for some, for the "Nothing to do." refusal. */
  readonly emptyProfileHint: string;
  /** The role launched first, of those the plan has; its address is given to the other roles. */
  primaryRole(plan: Pick<Plan, 'roles'>): RoleName;
  readonly ports: Readonly<Record<string, KindPort>>;
  readonly localRuntime: LocalRuntime;
  /**
   * Who runs the kind's services on an EC2 instance, where that user's home
   * is, and the image's Python (with boto3) that reads a command's secrets there.
   */
  readonly serviceAccount: { readonly user: string; readonly home: string; readonly python: string };
  /** Where `bilbo run` runs, the first of these roles the cluster has. */
  readonly runRoles: readonly RoleName[];

  /** The profile's roles, planned with the instance types' facts. */
  plan(
    profile: Profile,
    factsOf: (instance: ResolvedInstance) => Promise<InstanceTypeFacts>,
  ): Promise<KindPlan>;
  /** Where a role's own instance settings live in a profile, and what they are. */
  roleInstance(profile: Profile, role: RoleName): { path: string; instance: InstanceSpec | undefined };
  /** A role's plan, as a person reads it after the instance type (`2 processes × 1 thread, …`). */
  describeRole(role: RolePlan): string[];
  /** When the cluster counts as ready, as a person reads it. */
  describeReadiness(plan: Plan): string;

  /**
   * The secrets its machines read at boot, by key: made here (a notebook's
   * token) or taken from the profile (a git password). They go to the
   * secret store, never into the record, the plan or user-data.
   */
  secretsFor(profile: Profile, newSecret: () => string): Record<SecretKey, string>;
  /** What a role's machines start with. Secrets travel by name only. */
  bootstrap(
    clusterId: string,
    role: RolePlan,
    options: { primaryAddress?: string; secrets: SecretNames },
  ): Bootstrap;
  /** The address the other roles are given: the primary's, inside the cluster's network. */
  primaryAddress(primary: ClusterInstance): string;
  /**
   * The cluster's addresses and URLs for its instances: those people use
   * on `forPeople` addresses, and the probe's on private ones. The one
   * place a cluster's URLs are made.
   */
  endpoints(instances: readonly ClusterInstance[], forPeople: Network): EndpointFields;
  /** How the notebook's URL logs its reader in: the secret that does, put into the URL. */
  readonly notebookLogin: {
    readonly secret: SecretKey;
    url(notebookUrl: string, secret: string): string;
  };
  /** The secrets (by key) the readiness probe presents: read by the probe's step, never recorded. */
  readinessSecrets(cluster: Cluster): SecretKey[];
  /** What the readiness probe GETs, by name, on `network` addresses, with the secrets it was given. */
  readinessChecks(
    cluster: Cluster,
    network: Network,
    secrets?: Readonly<Record<SecretKey, string>>,
  ): Record<string, ProbeRequest>;
  /** Ready or not, from the probe's answers (undefined: no answer in time). */
  judgeReadiness(
    cluster: Cluster,
    answers: Readonly<Record<string, HttpAnswer | undefined>>,
  ): ReadinessVerdict;

  /**
   * What the reaper GETs to tell whether the cluster is in use: groups of
   * requests, each group looked at after the one before (a GET some
   * services count as activity comes after the reads it would disturb).
   * The secrets are readinessSecrets'.
   */
  activityChecks(
    cluster: Cluster,
    network: Network,
    secrets?: Readonly<Record<SecretKey, string>>,
  ): Array<Record<string, ProbeRequest>>;
  /** In use or idle, from the answers of every group (undefined: no answer in time). */
  judgeActivity(
    cluster: Cluster,
    answers: Readonly<Record<string, HttpAnswer | undefined>>,
    look: ActivityLook,
  ): ActivityVerdict;

  /**
   * Where commands (`rcmd`, `run`, checks) run on a role's machines,
   * relative to the service user's home; undefined: the home itself.
   */
  commandWorkdir(role: RolePlan): string | undefined;
  /**
   * The roles whose services a restart restarts, in that order, of those the
   * plan has: none when the cluster runs nothing a restart touches.
   */
  restartRoles(plan: Plan): RoleName[];
  /** The commands a role's machines run once at create, in order, before its init_cmd. */
  setupCommands(clusterId: string, role: RolePlan, secrets: SecretNames): SetupCommand[];
  /** The service manager's units a role's EC2 machines run its services as. */
  serviceUnits(role: RoleName): string[];

  /** How the local provider starts a launch's processes. */
  processSpec(request: LaunchRequest): ProcessSpec;
  /** The EC2 user-data script of a launch. */
  userData(request: LaunchRequest, region: string): string;
}

/** The addresses people use: the private ones when the profile says so (`private_command`), else the public. */
export function networkForPeople(plan: Pick<Plan, 'privateCommand'>): Network {
  return plan.privateCommand ? 'private' : 'public';
}

/** A machine's address on `network`; the private one when it has no public address (yet). */
export function addressOn(
  instance: Pick<ClusterInstance, 'privateIp' | 'publicIp'>,
  network: Network,
): string {
  return (network === 'public' && instance.publicIp) || (instance.privateIp ?? '');
}

/** The port a machine listens on for `name`: its own when the provider chose one (local), else the kind's. */
export function portOf(
  instance: Pick<ClusterInstance, 'ports'>,
  name: string,
  ports: Readonly<Record<string, KindPort>>,
): number {
  const port = instance.ports?.[name] ?? ports[name]?.number;
  if (port === undefined) throw new Error(`no port named ${name}`);
  return port;
}

/** A host as it goes in a URL: IPv6 in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
