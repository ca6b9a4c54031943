/**
 * The domain's error family. Every error bilbo raises on purpose extends
 * BilboError: a stable `code` for scripts and the HTTP mapping, a human
 * message that says what is wrong and how to fix it, and optional context.
 */
export abstract class BilboError extends Error {
  abstract readonly code: string;
  /** The input field at fault, as a dotted path, when there is one. */
  readonly field?: string;

  constructor(message: string, options: { cause?: unknown; field?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.field !== undefined) this.field = options.field;
  }
}

/** A profile, request or override that does not match the schema or the rules. */
export class ValidationError extends BilboError {
  readonly code = 'VALIDATION_FAILED';
}

export class InvalidOverrideError extends BilboError {
  readonly code = 'INVALID_OVERRIDE';
}

export class InvalidClusterNameError extends BilboError {
  readonly code = 'INVALID_CLUSTER_NAME';
}

export class ClusterNotFoundError extends BilboError {
  readonly code = 'CLUSTER_NOT_FOUND';
  constructor(readonly clusterName: string) {
    super(`No cluster named "${clusterName}". Run \`bilbo ls\` to see the clusters.`);
  }
}

export class ClusterAlreadyExistsError extends BilboError {
  readonly code = 'CLUSTER_EXISTS';
  constructor(readonly clusterName: string) {
    super(
      `A live cluster named "${clusterName}" already exists. Pick another name with -c NAME, or destroy it first.`,
      { field: 'name' },
    );
  }
}

/** The caller is neither the cluster's owner nor an admin. */
export class NotAdminError extends BilboError {
  readonly code = 'NOT_ADMIN';
  constructor(action: string) {
    super(
      `Only an admin of this bilbo deployment may ${action}. Ask one, or add your principal to the deployment's admins.`,
    );
  }
}

/** No sweep has this id (`bilbo reap` reads the sweep it started). */
export class SweepNotFoundError extends BilboError {
  readonly code = 'SWEEP_NOT_FOUND';
  constructor(readonly sweepId: string) {
    super(`No sweep ${sweepId}: use the id POST /reap answered (\`bilbo reap\` does).`);
  }
}

export class NotOwnerError extends BilboError {
  readonly code = 'NOT_OWNER';
  constructor(
    readonly clusterName: string,
    readonly owner: string,
    action: string,
  ) {
    super(
      `Only the owner of cluster "${clusterName}" (${owner}) or an admin may ${action} it. Ask them, or an admin of this bilbo deployment.`,
    );
  }
}

/** The cluster's state does not allow the requested change. */
export class IllegalTransitionError extends BilboError {
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(
    readonly from: string,
    readonly to: string,
    hint = '',
  ) {
    super(`A cluster in state ${from} cannot go to ${to}.${hint ? ` ${hint}` : ''}`);
  }
}

/** The profile asks for no instance at all (`bilbo plan` says "Nothing to do."). */
export class NothingToDoError extends BilboError {
  readonly code = 'NOTHING_TO_DO';
}

/** The cluster runs no services a restart restarts (only a notebook, say). */
export class NothingToRestartError extends BilboError {
  readonly code = 'NOTHING_TO_RESTART';
}

/** Some instance could not restart its services. */
export class ServiceRestartError extends BilboError {
  readonly code = 'RESTART_FAILED';
}

/** An init_cmd command failed on some instance, and the profile's init_fail says that fails the create. */
export class InitCommandFailedError extends BilboError {
  readonly code = 'INIT_FAILED';
}

/** Someone else changed the record between our read and our write. */
export class ConcurrentUpdateError extends BilboError {
  readonly code = 'CONCURRENT_UPDATE';
}

/** A machine provider could not do what was asked (capacity, limits, crashes). */
export class ProvisioningError extends BilboError {
  readonly code = 'PROVISIONING_FAILED';
}

export class ReadyTimeoutError extends BilboError {
  readonly code = 'READY_TIMEOUT';
}

/** An operation ran past its cluster's deadline (a destroy that could not confirm its machines gone). */
export class DeadlineExceededError extends BilboError {
  readonly code = 'DEADLINE_EXCEEDED';
}

/** A launched instance died or stopped before the cluster was ready. */
export class InstanceLostError extends BilboError {
  readonly code = 'INSTANCE_LOST';
}

/** No cluster record with this id (a lookup by id, where ClusterNotFoundError is by name). */
export class ClusterIdNotFoundError extends BilboError {
  readonly code = 'CLUSTER_NOT_FOUND';
  constructor(readonly clusterId: string) {
    super(`No cluster with id ${clusterId}. Run \`bilbo ls\` to see the clusters.`);
  }
}

/**
 * The provider asked us to slow down (throttling, request limits) or failed
 * in a way worth trying again. Retried with backoff in one place, above the
 * providers (adapters/retrying-provider.ts); anything else is not retried.
 */
export class ProviderBusyError extends BilboError {
  readonly code = 'PROVIDER_BUSY';
}

/** Some machines kept the name they were launched with: naming them one by one stopped early. */
export class MachinesNotNamedError extends BilboError {
  readonly code = 'MACHINES_NOT_NAMED';
  constructor(
    readonly named: number,
    readonly total: number,
    options: { cause?: unknown } = {},
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`named ${named} of ${total} machines, then stopped: ${reason}`, options);
  }
}

/** A command target that names none of the cluster's instances. */
export class UnknownTargetError extends BilboError {
  readonly code = 'UNKNOWN_TARGET';
  constructor(target: string, valid: readonly string[]) {
    super(
      `target ${JSON.stringify(target)} names none of the cluster's instances; use one of: ${valid.join(', ')}`,
      { field: 'target' },
    );
  }
}

export class CommandNotFoundError extends BilboError {
  readonly code = 'COMMAND_NOT_FOUND';
  constructor(clusterName: string, id: string) {
    super(
      `Cluster "${clusterName}" has no command ${id}. Run \`bilbo desc ${clusterName}\` to see its last commands.`,
    );
  }
}

/** The cluster is not in a state that takes commands (not READY). */
export class ClusterNotReadyError extends BilboError {
  readonly code = 'CLUSTER_NOT_READY';
}

/** The cluster runs no notebook: its profile has no notebook section. */
export class NoNotebookError extends BilboError {
  readonly code = 'NO_NOTEBOOK';
  constructor(clusterName: string) {
    super(
      `Cluster "${clusterName}" has no notebook: its profile has no "notebook" section. Create one with "notebook": {} to get one.`,
    );
  }
}
