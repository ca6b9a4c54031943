/**
 * The ports: what the domain and the use cases need from the outside world.
 * Adapters implement them, one folder per technology (adapters/dynamodb,
 * adapters/local, later adapters/ec2 and adapters/ssm).
 */
import type {
  Cluster,
  ClusterEvent,
  ClusterInstance,
  ClusterState,
  CommandRecord,
  InstanceTypeFacts,
  InvocationState,
  MachineState,
  Plan,
  Profile,
  ResolvedInstance,
  RoleName,
} from '../../schemas/types.generated.ts';
import type { KindBootstrap } from './kinds/index.ts';
import type { WorkflowInputs, WorkflowName } from './workflows.ts';

export interface Clock {
  now(): Date;
}

// ---------------------------------------------------------------- store

export interface NewEvent {
  step: string;
  message: string;
}

/** Record fields a write may set; a field whose value is `undefined` is removed. */
export type RecordChanges = Partial<
  Omit<
    Cluster,
    'id' | 'name' | 'owner' | 'state' | 'version' | 'createdAt' | 'updatedAt' | 'plan' | 'instances'
  >
> & {
  /**
   * The instances of these roles, each list replacing that role's earlier one
   * (a role is launched in one provider call, so a retried launch rewrites
   * the same list instead of appending duplicates); other roles' stay.
   */
  roleInstances?: Partial<Record<RoleName, ClusterInstance[]>>;
};

export interface TransitionRequest {
  /**
   * The cluster's name, which the write checks too. Entering DESTROYED or
   * FAILED releases the name's lock, keyed by the name: with it here the
   * store need not read the record before it writes.
   */
  name: string;
  /** The transition only happens from one of these states. */
  from: readonly ClusterState[];
  to: ClusterState;
  /** When set, the write also requires this version (optimistic locking); the new version is then expectedVersion + 1. */
  expectedVersion?: number;
  changes?: RecordChanges;
  event: NewEvent;
}

export interface UpdateRequest {
  changes: RecordChanges;
  /** The write happens only while the cluster is in one of these states. @default any state */
  inStates?: readonly ClusterState[];
  /** When set, the write also requires this version. */
  expectedVersion?: number;
  /** Appended in the same write. */
  event?: NewEvent;
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
   * ONE conditional write, no read before it: the state in `from` (and the
   * version, when expected), state set, version + 1, updatedAt, changes and
   * the event, all or nothing. Entering DESTROYED or FAILED frees the name
   * when this cluster holds it. Throws IllegalTransitionError (state not in
   * `from`, naming the state the record is in), ConcurrentUpdateError
   * (version moved, naming both versions), ClusterIdNotFoundError.
   * Returns nothing: a caller that needs the record reads it afterwards.
   */
  transition(id: string, request: TransitionRequest): Promise<void>;
  /**
   * ONE conditional write of fields (and optionally an event), no state
   * change; version + 1. Same errors, with ConcurrentUpdateError when the
   * state is not one of `inStates`.
   */
  update(id: string, request: UpdateRequest): Promise<void>;
  appendEvent(id: string, event: NewEvent): Promise<ClusterEvent>;
  /** Oldest first; only those after the event id `after` when it is given. */
  events(id: string, options?: { after?: string; limit?: number }): Promise<ClusterEvent[]>;
  /**
   * Resolves at the next write of the cluster `id` made through this store
   * object, or when `signal` aborts. Only a store that sees every write (one
   * process, as in local mode) has it; readers of other stores poll.
   */
  nextWrite?(id: string, signal: AbortSignal): Promise<void>;
}

// ---------------------------------------------------------------- machines

export type { MachineState };

/**
 * How to start a role's software as a local process, kept generic: a
 * program the provider resolves by name (e.g. "python"), and arguments
 * where `{host}` stands for the machine's address and `{workdir}` for its
 * own working folder. A process never gets a port chosen for it (another
 * program could take it first): it binds port 0 and reports the ports it
 * got in a file.
 */
export interface ProcessSpec {
  program: string;
  args: readonly string[];
  /**
   * How the ports it listens on become known (by the kind's port names), once it listens.
   * An argument `{port:NAME}` is where it is told to bind port NAME: 0 at launch, so it picks
   * one; on a restart the port it reported, so whoever found it finds it again.
   */
  reportsPorts?: PortsReport;
  /** The folder it runs in, relative to the instance's own (made first); absent: that folder itself. */
  folder?: string;
  /** Environment variables, given literally. */
  env?: Readonly<Record<string, string>>;
  /**
   * Environment variables whose values are secrets, by the secret's name (a
   * SecretNames name): the provider reads them when it starts the process,
   * so they appear in no argument, record or log.
   */
  secretEnv?: Readonly<Record<string, string>>;
}

/**
 * How a process tells the ports it got: a file it writes (relative to the
 * instance's folder), or — for a program that tells no one — the one TCP
 * port its process group listens on, read from the system, under `name`.
 */
export type PortsReport = PortsFile | { listening: string };

export interface PortsFile {
  file: string;
  /** The ports, by name, from the file's text; undefined while it is incomplete. */
  parse(text: string): Record<string, number> | undefined;
}

/** What a role's machines start with: each kind's own (lambdas/domain/kinds). Only names of secrets travel. */
export type RoleBootstrap = KindBootstrap;

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
  /** The ports the machine's process listens on, by name (local machines). */
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
  /**
   * Every machine carrying this deployment's mark, of any cluster, in any
   * state but terminated (stopped included): what the reaper's orphan pass
   * looks at. On EC2, only those that pass the provenance check.
   */
  findManaged(): Promise<ManagedMachine[]>;
  /**
   * Drops what the provider keeps of terminated machines (the local
   * provider's process records); a machine not terminated is kept. A
   * provider that keeps nothing has no such method.
   */
  forget?(ids: readonly string[]): Promise<void>;
  /**
   * Volumes carrying this deployment's mark and attached to no machine
   * (EC2's `available`). A provider whose machines have no volumes of their
   * own has no such method.
   */
  findLooseVolumes?(): Promise<LooseVolume[]>;
  /** Deletes the volumes; one already gone is done, one attached since is left alone. */
  deleteVolumes?(ids: readonly string[]): Promise<void>;
  /**
   * Gives each machine its own name (EC2's `Name` tag), for people to tell
   * them apart; idempotent. A provider whose machines have no names has no
   * such method. Names are for show: nothing bilbo does reads them back.
   */
  nameMachines?(names: readonly MachineName[]): Promise<void>;
}

/** A machine as the orphan pass sees it: whose it is, and since when. */
export interface ManagedMachine {
  id: string;
  /** The cluster it was launched for. */
  clusterId: string;
  role: RoleName;
  state: MachineState;
  /** When it was launched (ISO 8601). */
  launchedAt: string;
}

/** A volume carrying the deployment's mark that no machine has attached. */
export interface LooseVolume {
  id: string;
  /** The cluster whose machine it was made for. */
  clusterId: string;
  /** ISO 8601. */
  createdAt: string;
}

/** A machine and the name it should carry. */
export interface MachineName {
  id: string;
  name: string;
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

/** One HTTP answer: its status and body. */
export interface HttpAnswer {
  status: number;
  body: string;
}

/** A GET the probe makes: a URL, or a URL with headers (a service's token). */
export type ProbeRequest = string | { url: string; headers: Readonly<Record<string, string>> };

/**
 * Looks once at a cluster: GETs each URL (its kind names them, and judges
 * the answers). A URL that does not answer in time comes back undefined.
 */
export interface ReadinessProbe {
  look(requests: Readonly<Record<string, ProbeRequest>>): Promise<Record<string, HttpAnswer | undefined>>;
}

// ---------------------------------------------------------------- secrets

/** A secret's name within its cluster, which its kind chooses (e.g. a notebook's token). */
export type SecretKey = string;

/** The names a cluster's machines read their secrets by: all a launch needs. */
export interface SecretNames {
  /** The name a machine reads the secret by, whether or not it exists yet. */
  nameOf(clusterId: string, key: SecretKey): string;
}

/** Reads a secret back, for those who must present it (the probe, the notebook's owner). */
export interface SecretReader extends SecretNames {
  /** The secret's value; undefined when there is none (never stored, or removed). */
  read(name: string): Promise<string | undefined>;
}

/** Secrets a cluster's machines read at boot (SSM SecureString on AWS). */
export interface SecretStore extends SecretReader {
  /** Stores the value; returns the name a machine reads it by. Overwrites. */
  put(clusterId: string, key: SecretKey, value: string): Promise<string>;
  /** Removes every secret of the cluster; idempotent. */
  removeAll(clusterId: string): Promise<void>;
}

// ---------------------------------------------------------------- remote commands

/** What a command runs on each of its instances. */
export interface RemoteScript {
  /** A bash script, run with `bash -c` (as a file on the instance, never re-quoted by a shell). */
  script: string;
  /**
   * The user it runs as (`root` for the profile's init commands). Absent: the
   * instance's service user (the one its kind's services run as). Locally
   * every script runs as the plane's own user.
   */
  user?: string;
  /**
   * Where it runs, relative to the service user's home (the notebook's
   * workdir); absent: that home. Locally, relative to the instance's work folder.
   */
  workdir?: string;
  /** Files written into the working folder before the script runs: name (no folder) → content. */
  files?: Readonly<Record<string, Uint8Array>>;
  /** Environment variables for the script, given literally (never through a shell). */
  env?: Readonly<Record<string, string>>;
  /**
   * Environment variables whose values are secrets, by the secret's name (a
   * SecretNames name): read where the script runs (on EC2 by the instance,
   * with its role), so the value is in no argument of the send, no record
   * and no log.
   */
  secretEnv?: Readonly<Record<string, string>>;
  /** After this, the command is stopped and its invocations end `timed-out`. */
  timeoutSeconds: number;
  /** One line for the provider's own records (the SSM console), e.g. `bilbo rcmd on analytics`. */
  comment: string;
}

/** Where to find a command's invocations again: kept on its record. */
export interface SentCommand {
  /** The provider's id for the command (SSM's CommandId; locally, bilbo's command id). */
  providerCommandId: string;
}

/** Offsets, in bytes, into an invocation's stdout and stderr. */
export interface OutputOffsets {
  stdout: number;
  stderr: number;
}

/** One instance's part of a command, as the provider sees it now. */
export interface InvocationReport {
  state: InvocationState;
  /** Once ended: the exit code (128+N for a signal). */
  exitCode?: number;
  signal?: string;
  /** The bytes of each stream after the offsets asked for (at most `limitBytes` of each). */
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** How many bytes each stream holds so far, in all. */
  totalBytes: OutputOffsets;
  /** The provider kept only part of the output. */
  truncated?: boolean;
  /** Why it ended as it did, when the exit code does not tell (lost, cancelled, agent gone…). */
  reason?: string;
}

/**
 * Runs scripts on a cluster's instances: SSM Run Command on EC2, local
 * subprocesses in local mode. `read` and `cancel` are idempotent; a
 * provider's eventual consistency (SSM's InvocationDoesNotExist right
 * after a send) is the adapter's to absorb, reporting `pending`.
 */
export interface RemoteCommandRunner {
  send(commandId: string, instances: readonly ClusterInstance[], script: RemoteScript): Promise<SentCommand>;
  read(
    sent: SentCommand,
    instance: ClusterInstance,
    from: OutputOffsets,
    limitBytes: number,
  ): Promise<InvocationReport>;
  cancel(sent: SentCommand, instances: readonly ClusterInstance[]): Promise<void>;
  /**
   * The ids of those instances that can take a command now (SSM: the
   * agent registered and online; locally: the process runs).
   */
  reachable(instances: readonly ClusterInstance[]): Promise<string[]>;
}

/** Commands as records on their cluster. */
export interface CommandStore {
  /** Records a new command. */
  putCommand(command: CommandRecord): Promise<void>;
  getCommand(clusterId: string, id: string): Promise<CommandRecord | undefined>;
  /** Newest first, at most `limit` (default 20). */
  listCommands(clusterId: string, options?: { limit?: number }): Promise<CommandRecord[]>;
  /**
   * Replaces the record, only while the stored one is still RUNNING: of
   * two readers that saw the end, one writes. False when it had ended.
   */
  updateCommand(command: CommandRecord): Promise<boolean>;
}

// ---------------------------------------------------------------- services

/** Restart a role's services on its instances, in place: the same machines, addresses and ports. */
export interface ServiceRestartRequest {
  clusterId: string;
  clusterName: string;
  kind: Plan['kind'];
  role: RoleName;
  instances: readonly ClusterInstance[];
  /** The same for every attempt at one restart of one role, different for the next restart. */
  restartKey: string;
}

/** What a restart hands back for looking at it later: plain data, kept in the workflow's state. */
export interface ServiceRestartTicket {
  /** The provider's id for the restart (a remote command's; locally, the restart key). */
  id: string;
}

export interface ServiceRestartProgress {
  /** Every instance has restarted its services, or one could not. */
  done: boolean;
  /** Why the restart failed, naming the instance, when it did. */
  failure?: string;
}

/**
 * Restarts the services a cluster's kind runs for a role: through the
 * remote-command port as the service manager's restart on EC2, by starting
 * each instance's process again locally. `restart` may be asked again for
 * the same key (a retried step): the services then restart once more.
 */
export interface ServiceRestarter {
  restart(request: ServiceRestartRequest): Promise<ServiceRestartTicket>;
  progress(
    ticket: ServiceRestartTicket,
    instances: readonly ClusterInstance[],
  ): Promise<ServiceRestartProgress>;
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
  /**
   * Whether the execution `start` returned still runs: false once it ended
   * (or was never known), undefined when that cannot be told now.
   */
  isRunning(executionArn: string): Promise<boolean | undefined>;
  /**
   * How the execution of `workflow` named `executionName` goes: its status,
   * and once it ended its output (or why it failed); undefined when no
   * such execution is known.
   */
  describe(workflow: WorkflowName, executionName: string): Promise<WorkflowExecution | undefined>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface WorkflowExecution {
  status: ExecutionStatus;
  /** The workflow's output, parsed: once SUCCEEDED. */
  output?: unknown;
  /** The error's name and cause, once FAILED, TIMED_OUT or ABORTED (when known). */
  error?: string;
}
