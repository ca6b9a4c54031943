/**
 * The command line's error family. Every error the CLI raises on purpose
 * extends CliError and carries the process exit code `main` uses for it:
 * 1 error, 2 cancelled, 4 auth, and for `rcmd`/`run` the remote command's own
 * exit code (130 after Ctrl-C). Anything else (domain errors thrown by local
 * validation, bugs) exits 1.
 */
export abstract class CliError extends Error {
  abstract readonly code: string;
  readonly exitCode: number = 1;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** The API answered 4xx/5xx with an ApiError body (or something unexpected). */
export class ApiRequestError extends CliError {
  readonly code: string;
  readonly field?: string;

  constructor(
    readonly status: number,
    code: string,
    message: string,
    field?: string,
  ) {
    super(message);
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

/** The caller is not allowed in: an API 403, or no AWS credentials at all. */
export class AuthError extends CliError {
  readonly code = 'AUTH_FAILED';
  override readonly exitCode = 4;
}

/** The user stopped the command: Ctrl-C, or a declined prompt. */
export class CancelledError extends CliError {
  readonly code = 'CANCELLED';
  override readonly exitCode = 2;
}

/** The API could not be reached at all (connection refused, DNS, TLS). */
export class ApiUnreachableError extends CliError {
  readonly code = 'API_UNREACHABLE';

  constructor(
    readonly endpoint: string,
    options: { cause?: unknown; message?: string } = {},
  ) {
    super(
      options.message ??
        `cannot reach the bilbo API at ${endpoint}: is \`bilbo local\` running? (set BILBO_ENDPOINT)`,
      options,
    );
  }
}

/** The CLI's own configuration (endpoint, region, config.json) is missing or broken. */
export class ConfigError extends CliError {
  readonly code = 'CONFIG_INVALID';
}

/** An `http://` endpoint on a host other than this machine: only https carries signed requests off it. */
export class InsecureEndpointError extends CliError {
  readonly code = 'ENDPOINT_INSECURE';

  constructor(
    readonly endpoint: string,
    /** Where the endpoint was set: `BILBO_ENDPOINT` or the config file's path. */
    readonly source: string,
  ) {
    super(
      `the bilbo API endpoint ${endpoint} (from ${source}) uses http on a host that is not this machine: ` +
        'use https (plain http is allowed only for localhost, 127.0.0.0/8 and ::1)',
    );
  }
}

/** A profile file that cannot be found, read or parsed as JSON. */
export class ProfileFileError extends CliError {
  readonly code = 'PROFILE_UNREADABLE';

  constructor(
    readonly path: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** The cluster ended FAILED while the CLI was following it. */
export class ClusterFailedError extends CliError {
  readonly code = 'CLUSTER_FAILED';

  constructor(
    readonly clusterName: string,
    readonly step: string,
    detail: string,
  ) {
    super(`cluster ${clusterName} failed at step "${step}": ${detail}`);
  }
}

/** The cluster is in a state that does not allow what was asked (e.g. no dashboard yet). */
export class ClusterStateError extends CliError {
  readonly code = 'CLUSTER_STATE';
}

/** A command used in a way that cannot work (e.g. destroy off a terminal without -f). */
export class UsageError extends CliError {
  readonly code = 'USAGE';
}

/** A command could not finish for a reason of its own, already explained in the message. */
export class CommandFailedError extends CliError {
  readonly code = 'COMMAND_FAILED';
}

/**
 * A remote command (`rcmd`, `run`) ended other than with success: the CLI
 * exits with the command's own exit code (the first non-zero one, 128+N for
 * a signal), or 124 when it timed out, 130 when it was cancelled, 1 when
 * neither an exit code nor a state says more.
 */
export class RemoteCommandFailedError extends CliError {
  readonly code = 'REMOTE_COMMAND_FAILED';
  override readonly exitCode: number;

  constructor(
    readonly commandId: string,
    exitCode: number,
    message: string,
  ) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Ctrl-C while following a remote command: the command was cancelled (exit 130, as a shell's SIGINT). */
export class RemoteCommandInterruptedError extends CliError {
  readonly code = 'REMOTE_COMMAND_INTERRUPTED';
  override readonly exitCode = 130;

  constructor(
    readonly commandId: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One browser could not open a URL: it is missing, not executable, or
 * failed at once. Commands never exit on it: they print the URL instead.
 */
export class BrowserLaunchError extends CliError {
  readonly code = 'BROWSER_LAUNCH_FAILED';

  constructor(
    /** How messages name the browser: `"firefox" from $BROWSER`. */
    readonly browser: string,
    problem: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${browser} ${problem}`, options);
  }
}

/** Another `bilbo local` already runs on this BILBO_HOME. */
export class LocalPlaneRunningError extends CliError {
  readonly code = 'LOCAL_PLANE_RUNNING';

  constructor(
    readonly home: string,
    readonly pid: number,
    readonly endpoint?: string,
  ) {
    super(
      `another bilbo local (pid ${pid}${endpoint ? `, at ${endpoint}` : ', still starting'}) runs on ${home}: ` +
        'use that one (point BILBO_ENDPOINT at it), stop it first, or give this one another BILBO_HOME',
    );
  }
}

/** The port `bilbo local --port` asked for is taken. */
export class PortBusyError extends CliError {
  readonly code = 'PORT_BUSY';

  constructor(
    readonly port: number,
    options: { cause?: unknown } = {},
  ) {
    super(`port ${port} is in use: choose another with --port, or leave --port out for a free one`, options);
  }
}

/** Commander's own errors (unknown flag, help shown) carry their exit code. */
interface ExitCodeCarrier {
  exitCode: number;
  code: string;
}

function isCommanderError(error: unknown): error is ExitCodeCarrier {
  return (
    error instanceof Error &&
    typeof (error as Partial<ExitCodeCarrier>).exitCode === 'number' &&
    typeof (error as Partial<ExitCodeCarrier>).code === 'string' &&
    (error as Partial<ExitCodeCarrier>).code!.startsWith('commander.')
  );
}

/** The process exit code for an error that reached `main`. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (isCommanderError(error)) return error.exitCode;
  return 1;
}

/** Whether `main` still has to print the error (commander prints its own). */
export function needsPrinting(error: unknown): boolean {
  return !isCommanderError(error);
}
