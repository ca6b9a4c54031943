import { BilboError } from '../../domain/errors.ts';

/** Request-shape problems found by the HTTP layer before any use case runs. */
export class InvalidJsonError extends BilboError {
  readonly code = 'INVALID_JSON';
}

export class PayloadTooLargeError extends BilboError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

export class UnsupportedMediaTypeError extends BilboError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

export class RouteNotFoundError extends BilboError {
  readonly code = 'ROUTE_NOT_FOUND';
}
