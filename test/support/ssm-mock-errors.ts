/**
 * SSM's errors as the SDK throws them: the SDK's own exception classes,
 * with SSM's HTTP status and wording, for the SSM mock and its faults.
 */
import {
  DuplicateInstanceId,
  InternalServerError,
  InvalidCommandId,
  InvalidDocument,
  InvalidInstanceId,
  InvalidParameters,
  InvocationDoesNotExist,
  MaxDocumentSizeExceeded,
  SSMServiceException,
  ThrottlingException,
} from '@aws-sdk/client-ssm';

const metadata = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: '5353c0de-0000-4000-8000-000000000000',
  attempts: 1,
  totalRetryDelay: 0,
});

/** Any SSM error by its code, for codes without a class of their own (ValidationException…). */
export function ssmError(code: string, message: string, httpStatusCode = 400): SSMServiceException {
  return new SSMServiceException({
    name: code,
    message,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: metadata(httpStatusCode),
  });
}

export const ssmErrors = {
  throttled: () =>
    new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: metadata(400) }),
  internal: () =>
    new InternalServerError({
      message: 'An internal error occurred. Try again later.',
      Message: 'An internal error occurred. Try again later.',
      $metadata: metadata(500),
    }),
  /** SSM sends this one without a message: the SDK then names it after its code. */
  invocationDoesNotExist: () =>
    new InvocationDoesNotExist({ message: 'InvocationDoesNotExist', $metadata: metadata(400) }),
  invalidCommandId: () => new InvalidCommandId({ message: 'InvalidCommandId', $metadata: metadata(400) }),
  invalidInstanceId: () =>
    new InvalidInstanceId({
      message: 'Instances [[i-0unmanaged]] not in a valid state for account 123456789012',
      Message: 'Instances [[i-0unmanaged]] not in a valid state for account 123456789012',
      $metadata: metadata(400),
    }),
  duplicateInstanceId: () =>
    new DuplicateInstanceId({ message: 'DuplicateInstanceId', $metadata: metadata(400) }),
  invalidDocument: () =>
    new InvalidDocument({
      message: 'Document with that name does not exist.',
      Message: 'Document with that name does not exist.',
      $metadata: metadata(400),
    }),
  invalidParameters: (message: string) =>
    new InvalidParameters({ message, Message: message, $metadata: metadata(400) }),
  maxDocumentSize: () =>
    new MaxDocumentSizeExceeded({
      message: 'The content for the document exceeds the maximum allowed size.',
      Message: 'The content for the document exceeds the maximum allowed size.',
      $metadata: metadata(400),
    }),
  validation: (message: string) => ssmError('ValidationException', message),
  accessDenied: (action = 'ssm:SendCommand') =>
    ssmError(
      'AccessDeniedException',
      `User: arn:aws:sts::123456789012:assumed-role/bilbo-api/bilbo is not authorized to perform: ${action} on resource: arn:aws:ec2:eu-west-1:123456789012:instance/i-0123 because no identity-based policy allows the ${action} action`,
      400,
    ),
};
