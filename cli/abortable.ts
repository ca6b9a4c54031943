/**
 * The promise, unless `signal` aborts first: then the error `interrupted()`
 * makes. A promise that fails after the abort fails with that error too, so
 * callers see one reason for stopping.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal, interrupted: () => Error): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(interrupted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? interrupted() : error);
      },
    );
  });
}
