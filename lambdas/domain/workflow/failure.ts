/** What a Step Functions Catch puts at `$.error`. */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

/**
 * The human message of a caught error. On AWS, Cause is the Lambda
 * runtime's JSON (`{"errorType","errorMessage","trace"}`); the local
 * interpreter passes the message itself.
 */
export function describeCaughtError(error: CaughtError | undefined): { error: string; message: string } {
  const name = error?.Error ?? 'Error';
  const cause = error?.Cause ?? '';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) {
      return { error: name, message: String((parsed as { errorMessage: unknown }).errorMessage) };
    }
  } catch {
    // Not JSON: the cause is the message.
  }
  return { error: name, message: cause || name };
}
