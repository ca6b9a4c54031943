/**
 * EC2's errors in bilbo's terms. The SDK names a service error after EC2's
 * error code (`error.name`, e.g. `InvalidAMIID.NotFound`); these functions
 * turn it into the domain error family, keeping the SDK error as `cause`.
 */
import { ProviderBusyError, ProvisioningError, ValidationError } from '../../domain/errors.ts';

/** The instance fields an EC2 error can put at fault. */
export type Ec2Field = 'ami' | 'keyname' | 'security_group' | 'ec2type';

export interface Ec2ErrorContext {
  /** The EC2 action that failed, e.g. 'RunInstances'. */
  action: string;
  /** The field a bad value is reported under. @default `instance.<field>` */
  fieldOf?: (field: Ec2Field) => string;
}

/** Asked to slow down, or failed in a way worth trying again. */
const TRANSIENT = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'RequestThrottledException',
  'ServiceUnavailable',
  'Unavailable',
  'InternalError',
  'InternalFailure',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
]);
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

const CAPACITY = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientHostCapacity',
  'InsufficientCapacity',
  'InsufficientFreeAddressesInSubnet',
]);
const LIMITS = new Set(['InstanceLimitExceeded', 'VcpuLimitExceeded']);

/** EC2's error code, or a network error's code, when there is one. */
export function ec2ErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) return code;
  return typeof name === 'string' ? name : undefined;
}

/** Whether the error carries one of the codes; `Prefix.*` matches a family. */
export function isEc2Error(error: unknown, ...codes: string[]): boolean {
  const actual = ec2ErrorCode(error);
  if (actual === undefined) return false;
  return codes.some((code) => (code.endsWith('.*') ? actual.startsWith(code.slice(0, -1)) : actual === code));
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

/** The permission a denied call was missing; EC2's encoded reason needs sts:DecodeAuthorizationMessage. */
export function missingPermission(action: string): string {
  return action === 'RunInstances'
    ? 'ec2:RunInstances (or iam:PassRole on the instances’ role, or ec2:CreateTags for tags at launch)'
    : `ec2:${action}`;
}

/**
 * The domain error for an EC2 failure: transient → ProviderBusyError
 * (retried above the provider); capacity, limits and permissions →
 * ProvisioningError; a bad image, key pair, security group or instance type
 * → ValidationError naming the field. Any other EC2 error becomes a
 * ProvisioningError naming the action; anything that is not an EC2 error
 * (a bug) is returned as it is.
 */
export function translateEc2Error(error: unknown, context: Ec2ErrorContext): unknown {
  const code = ec2ErrorCode(error);
  const aws = messageOf(error);
  const fieldOf = context.fieldOf ?? ((field: Ec2Field) => `instance.${field}`);
  const invalid = (field: Ec2Field) =>
    new ValidationError(`${fieldOf(field)}: ${aws}`, { field: fieldOf(field), cause: error });

  if (code !== undefined && CAPACITY.has(code)) {
    return new ProvisioningError(`${aws} (${code}): try another instance type, or later`, { cause: error });
  }
  if (code !== undefined && LIMITS.has(code)) {
    return new ProvisioningError(
      `${aws} (${code}): launch fewer or smaller instances, or ask AWS to raise the limit`,
      { cause: error },
    );
  }
  if (code === 'Unsupported') return new ProvisioningError(`${aws} (${code})`, { cause: error });
  if (code === 'UnauthorizedOperation') {
    return new ProvisioningError(
      `bilbo may not call ec2:${context.action}: its role is missing ${missingPermission(context.action)}`,
      { cause: error },
    );
  }
  if (isEc2Error(error, 'InvalidAMIID.*')) return invalid('ami');
  if (isEc2Error(error, 'InvalidKeyPair.*')) return invalid('keyname');
  if (isEc2Error(error, 'InvalidGroup.NotFound', 'InvalidGroupId.Malformed'))
    return invalid('security_group');
  if (isEc2Error(error, 'InvalidInstanceType')) return invalid('ec2type');
  if (isEc2Error(error, 'InvalidParameterValue') && /instance ?type/i.test(aws)) return invalid('ec2type');

  const status = httpStatusOf(error);
  const retryable = (error as { $retryable?: unknown } | null)?.$retryable !== undefined;
  if (
    (code !== undefined && (TRANSIENT.has(code) || TRANSIENT_NETWORK_CODES.has(code))) ||
    (status !== undefined && status >= 500) ||
    retryable
  ) {
    return new ProviderBusyError(`EC2 ${context.action} is busy or failed transiently: ${aws}`, {
      cause: error,
    });
  }
  if (isServiceError(error)) {
    return new ProvisioningError(`EC2 ${context.action} failed: ${aws} (${code ?? 'unknown error'})`, {
      cause: error,
    });
  }
  return error;
}
