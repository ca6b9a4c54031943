/**
 * SSM's errors in bilbo's terms, as adapters/ec2/errors.ts does for EC2: the
 * SDK names a service error after SSM's error code (`error.name`, e.g.
 * `InvalidInstanceId`); these functions turn it into the domain error
 * family, keeping the SDK error as `cause`.
 */
import { ProviderBusyError, ProvisioningError } from '../../domain/errors.ts';

/** SSM refused the request before acting on it: safe to send again, even a SendCommand. */
const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'TooManyUpdates', 'RequestLimitExceeded']);
/** Failed in a way worth trying again, but the request may have taken effect. */
const TRANSIENT = new Set([
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
]);
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);

export interface SsmErrorContext {
  /** The SSM action that failed, e.g. 'SendCommand'. */
  action: string;
  /**
   * Whether sending the same request twice does no harm. When it does
   * (SendCommand: there is no idempotency token, a second call runs the
   * script again), only throttling is reported retryable.
   */
  idempotent: boolean;
}

/** SSM's error code, or a network error's code, when there is one. */
export function ssmErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) return code;
  return typeof name === 'string' ? name : undefined;
}

export function isSsmError(error: unknown, ...codes: string[]): boolean {
  const actual = ssmErrorCode(error);
  return actual !== undefined && codes.includes(actual);
}

function httpStatusOf(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

function isServiceError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && ('$metadata' in error || '$fault' in error);
}

function messageOf(error: unknown): string {
  return error instanceof Error && error.message ? error.message : String(error);
}

/**
 * The domain error for an SSM failure: throttling → ProviderBusyError;
 * other transient failures → ProviderBusyError for an idempotent action,
 * else ProvisioningError saying the command may have been sent; access
 * denied, an instance SSM does not manage, and any other SSM error →
 * ProvisioningError. Anything that is not an SSM error (a bug) is returned
 * as it is.
 */
export function translateSsmError(error: unknown, context: SsmErrorContext): unknown {
  const code = ssmErrorCode(error);
  const aws = messageOf(error);
  const { action } = context;

  if (code !== undefined && THROTTLED.has(code)) {
    return new ProviderBusyError(`SSM ${action} was throttled: ${aws}`, { cause: error });
  }
  const status = httpStatusOf(error);
  const transient =
    (code !== undefined && (TRANSIENT.has(code) || TRANSIENT_NETWORK_CODES.has(code))) ||
    (status !== undefined && status >= 500);
  if (transient) {
    if (context.idempotent) {
      return new ProviderBusyError(`SSM ${action} is busy or failed transiently: ${aws}`, { cause: error });
    }
    return new ProvisioningError(
      `SSM ${action} failed transiently and may or may not have reached the instances (${aws}); bilbo does not send it again on its own, so a script never runs twice. Look at the command's state before trying again.`,
      { cause: error },
    );
  }
  if (code !== undefined && DENIED.has(code)) {
    return new ProvisioningError(
      `bilbo may not call ssm:${action}: its role is missing that permission (${aws})`,
      {
        cause: error,
      },
    );
  }
  if (code === 'InvalidInstanceId') {
    return new ProvisioningError(
      `SSM cannot reach the instance: it is not running, its SSM agent is not connected yet (it registers within a minute or two of boot), or it has no instance role that allows SSM (${aws})`,
      { cause: error },
    );
  }
  if (isServiceError(error)) {
    return new ProvisioningError(`SSM ${action} failed: ${aws} (${code ?? 'unknown error'})`, {
      cause: error,
    });
  }
  return error;
}
