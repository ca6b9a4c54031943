import type { BilboError } from '../../domain/errors.ts';

/** The one table from domain error codes to HTTP statuses. */
const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION_FAILED: 400,
  INVALID_OVERRIDE: 400,
  INVALID_CLUSTER_NAME: 400,
  INVALID_JSON: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNKNOWN_TARGET: 400,
  NOT_OWNER: 403,
  CLUSTER_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  COMMAND_NOT_FOUND: 404,
  NO_NOTEBOOK: 404,
  CLUSTER_EXISTS: 409,
  ILLEGAL_TRANSITION: 409,
  CONCURRENT_UPDATE: 409,
  CLUSTER_NOT_READY: 409,
  PROVISIONING_FAILED: 422,
  NOTHING_TO_RESTART: 422,
  NOTHING_TO_DO: 422,
  PROVIDER_BUSY: 503,
};

export function statusOf(error: BilboError): number {
  return STATUS_BY_CODE[error.code] ?? 500;
}
