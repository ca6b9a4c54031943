/**
 * The ports: what the domain and the use cases need from the outside world.
 * Adapters implement them, one folder per technology (adapters/dynamodb,
 * adapters/local, later adapters/ec2 and adapters/ssm).
 */
import type {
  Cluster,
  ClusterEvent,
  ClusterState,
  DaskWorkerOptions,
  InstanceTypeFacts,
  Plan,
  Profile,
  ResolvedInstance,
  RoleName,
} from '../../schemas/types.generated.ts';
import type { WorkflowInputs, WorkflowName } from './workflows.ts';

export interface Clock {
  now(): Date;
}

// ---------------------------------------------------------------- store

export interface NewEvent {
  step: string;
  message: string;
}

export interface TransitionRequest {
  /** The transition only happens from one of these states. */
  from: readonly ClusterState[];
  to: ClusterState;
  /** When set, the write also requires this version (optimistic locking). */
  expectedVersion?: number;
  /** Fields to set on the record together with the state. */
  changes?: Partial<Omit<Cluster, 'id' | 'name' | 'owner' | 'state' | 'version' | 'createdAt'>>;
  event: NewEvent;
}

export interface ClusterStore {
  /**
   * Records a new cluster (normally CREATING) and its first event. Throws
   * ClusterAlreadyExistsError when a live cluster already has the name.
   */
  create(cluster: Cluster, event: NewEvent): Promise<void>;
  get(id: string): Promise<Cluster | undefined>;
  /** The live cluster with that name, or else the most recent ended one. */
  findByName(name: string): Promise<Cluster | undefined>;
  /** Newest first. Ended clusters (DESTROYED, FAILED) only when asked. */
  list(options?: { includeEnded?: boolean }): Promise<Cluster[]>;
  /**
   * A conditional write: state, version + 1, changes and an event, all or
   * nothing. Entering DESTROYED or FAILED frees the name. Throws
   * IllegalTransitionError (state not in `from`) or ConcurrentUpdateError
   * (version moved); returns the new record.
   */
  transition(id: string, request: TransitionRequest): Promise<Cluster>;
  /** Sets fields without a state change (still versioned and conditional). */
  update(
    id: string,
    expectedVersion: number,
    changes: TransitionRequest['changes'],
    event?: NewEvent,
  ): Promise<Cluster>;
  appendEvent(id: string, event: NewEvent): Promise<ClusterEvent>;
  /** Oldest first; only those after the event id `after` when it is given. */
  events(id: string, options?: { after?: string; limit?: number }): Promise<ClusterEvent[]>;
}

// ---------------------------------------------------------------- machines

export type MachineState = 'pending' | 'running' | 'stopping' | 'stopped' | 'terminated';

/**
 * How to start a role's software on a machine, kept generic: named ports
 * the provider allocates, and arguments where `{port:NAME}` stands for the
 * port allocated for NAME and `{host}` for the machine's address. The local
 * provider runs it as a process.
 */
export interface ProcessSpec {
  /** The program family, resolved by the provider (e.g. "dask"). */
  program: 'dask';
  args: readonly string[];
  /** Names of the ports this process listens on, e.g. ["scheduler", "dashboard"]. */
  ports: readonly string[];
}

/**
 * What a role's machine must start, whatever the provider: the local one
 * turns it into a process (dask/roles.ts), the EC2 one into user-data
 * (dask/user-data.ts). Only names of secrets travel, never their values.
 */
export interface RoleBootstrap {
  kind: 'dask';
  /** tcp://host:port of the scheduler, for every role but the scheduler. */
  schedulerAddress?: string;
  /** Worker processes, threads and memory per instance (worker role). */
  dask?: DaskWorkerOptions;
  /** The profile's init_cmd, run before the role starts. */
  initCommands: readonly string[];
  notebook?: {
    workdir?: string;
    gitRepositories?: readonly string[];
    gitUser?: string;
    gitEmail?: string;
  };
  /** Secret parameter names the machine reads at boot with its instance role. */
  secrets?: { jupyterToken?: string; gitPassword?: string };
}

export interface LaunchRequest {
  clusterId: string;
  clusterName: string;
  owner: string;
  role: RoleName;
  /** Index of the first instance of this call within its role. */
  firstIndex: number;
  count: number;
  instance: ResolvedInstance;
  instanceType: InstanceTypeFacts;
  instancePrefix?: string;
  /** The same token on a retried launch returns the first call's instances. */
  idempotencyToken: string;
  bootstrap: RoleBootstrap;
}

export interface Machine {
  id: string;
  clusterId: string;
  role: RoleName;
  index: number;
  state: MachineState;
  privateIp: string;
  publicIp?: string;
  /** Ports allocated for the ProcessSpec's named ports. */
  ports?: Record<string, number>;
  /** Why a machine stopped or terminated unexpectedly. */
  stateReason?: string;
  /**
   * The provider has no trace of the machine: long gone, or — on EC2, whose
   * listings lag RunInstances by seconds — not visible yet. Reported as
   * terminated; callers that just launched it treat it as pending.
   */
  unseen?: boolean;
}

/**
 * A machine provider (EC2, or local processes). Every call is idempotent:
 * terminating a terminated machine, or describing a gone one, is not an
 * error. Retries, timeouts and failure limits live above providers.
 */
export interface MachineProvider {
  readonly name: string;
  launch(request: LaunchRequest): Promise<Machine[]>;
  /** Batched; a machine the provider no longer knows comes back terminated. */
  describe(ids: readonly string[]): Promise<Machine[]>;
  stop(ids: readonly string[]): Promise<void>;
  start(ids: readonly string[]): Promise<void>;
  terminate(ids: readonly string[]): Promise<void>;
  /** Every machine carrying the cluster's tag, in any state but terminated. */
  findByCluster(clusterId: string): Promise<Machine[]>;
}

/**
 * Checks, before anything is launched, what the provider can check: that
 * images, key pairs and security groups exist and that the caller may
 * launch. Errors name the profile field at fault.
 */
export interface LaunchPreflight {
  check(plan: Plan, profile: Profile): Promise<void>;
}

export interface InstanceTypeCatalog {
  /** Cores, threads per core and memory of an instance type. */
  describe(instanceType: string | undefined): Promise<InstanceTypeFacts>;
  /** Things the plan should tell the user about this provider. */
  notes(instance: ResolvedInstance): string[];
}

// ---------------------------------------------------------------- readiness

export interface ReadinessTarget {
  dashboardUrl: string;
  wantedWorkers: number;
  /** The Jupyter server to look at too, when the cluster has a notebook. */
  notebookUrl?: string;
}

export interface ReadinessObservation {
  dashboardUp: boolean;
  workersJoined: number;
  /** Whether the notebook's Jupyter server answers; absent when none was asked about. */
  notebookUp?: boolean;
}

/** Looks once at a cluster's Dask dashboard (and notebook). Never throws for "not up yet". */
export interface ReadinessProbe {
  observe(target: ReadinessTarget): Promise<ReadinessObservation>;
}

// ---------------------------------------------------------------- secrets

export type SecretKey = 'jupyter-token' | 'git-password';

/** The names a cluster's machines read their secrets by: all a launch needs. */
export interface SecretNames {
  /** The name a machine reads the secret by, whether or not it exists yet. */
  nameOf(clusterId: string, key: SecretKey): string;
}

/** Secrets a cluster's machines read at boot (SSM SecureString on AWS). */
export interface SecretStore extends SecretNames {
  /** Stores the value; returns the name a machine reads it by. Overwrites. */
  put(clusterId: string, key: SecretKey, value: string): Promise<string>;
  /** Removes every secret of the cluster; idempotent. */
  removeAll(clusterId: string): Promise<void>;
}

// ---------------------------------------------------------------- workflows

export interface WorkflowStarter {
  /**
   * Starts a workflow execution (its name from the registry's
   * executionName); returns its id (an ARN on AWS). Starting a name that
   * already ran returns that execution instead of a second one.
   */
  start<W extends WorkflowName>(
    workflow: W,
    executionName: string,
    input: WorkflowInputs[W],
  ): Promise<string>;
}
