/**
 * Retries for the signed HTTP client: throttling (429) and server errors
 * (5xx) are retried with exponential backoff (or the server's Retry-After),
 * a bounded number of times, and each retry is said on stderr.
 *
 * What is retried depends on whether repeating the request is safe:
 * - 429 is retried for every request. API Gateway answers it before the
 *   request reaches the Lambda, so nothing happened.
 * - 5xx and a connection reset are retried only for requests without side
 *   effects (GET, and those marked `idempotent`, such as POST /plan). A
 *   502/503/504 after POST /clusters or DELETE may come after the Lambda
 *   did its write: a repeated create would then fail "already exists" and a
 *   repeated destroy "illegal transition", hiding that the first one worked.
 *   The caller sees the first answer, and `bilbo ls` tells what happened.
 * - A refused connection is never retried: nothing listens (is `bilbo local`
 *   running?), and saying so at once beats saying so after 30 s.
 */
import pRetry from 'p-retry';
import { ApiUnreachableError } from '../errors.ts';
import type { HttpResponse, SignedHttp } from './http.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Backoff before the first retry; it doubles, with jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8_000 };

/** The longest Retry-After honoured: a server asking for more gets this. */
const MAX_RETRY_AFTER_MS = 30_000;

export interface RetryingHttpOptions {
  policy?: RetryPolicy;
  /** One line per retry (stderr). */
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter. */
  random?: () => number;
  now?: () => number;
}

/** An answer (or a failure) that another attempt may fix. */
class Retryable extends Error {
  constructor(
    readonly reason: string,
    readonly response?: HttpResponse,
    readonly failure?: unknown,
  ) {
    super(reason);
  }
}

export function withRetries(http: SignedHttp, options: RetryingHttpOptions): SignedHttp {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;

  return {
    endpoint: http.endpoint,
    async request(method, path, requestOptions = {}) {
      const safe = method === 'GET' || requestOptions.idempotent === true;
      const attempt = async (): Promise<HttpResponse> => {
        let response: HttpResponse;
        try {
          response = await http.request(method, path, requestOptions);
        } catch (failure) {
          if (safe && isConnectionReset(failure))
            throw new Retryable('the connection was reset', undefined, failure);
          throw failure;
        }
        const reason = retryReason(response.status, safe);
        if (reason !== undefined) throw new Retryable(reason, response);
        return response;
      };
      try {
        return await pRetry(attempt, {
          retries: policy.attempts - 1,
          // The waits happen in onFailedAttempt, where Retry-After is known.
          minTimeout: 0,
          maxTimeout: 0,
          shouldRetry: (error) => error instanceof Retryable,
          onFailedAttempt: async (error) => {
            if (!(error instanceof Retryable) || error.retriesLeft === 0) return;
            const delay =
              retryAfterMs(error.response?.headers?.get('retry-after') ?? undefined, now()) ??
              backoffMs(policy, error.attemptNumber, random());
            options.log(
              `${error.reason}, retrying in ${(delay / 1000).toFixed(1)} s ` +
                `(attempt ${error.attemptNumber + 1} of ${policy.attempts})`,
            );
            await sleep(delay);
          },
        });
      } catch (error) {
        if (!(error instanceof Retryable)) throw error;
        if (error.response) return { ...error.response, attempts: policy.attempts };
        throw error.failure;
      }
    },
  };
}

function retryReason(status: number, safe: boolean): string | undefined {
  if (status === 429) return 'throttled (429)';
  if (safe && status >= 500 && status <= 599) return `the bilbo API answered ${status}`;
  return undefined;
}

function isConnectionReset(failure: unknown): boolean {
  if (!(failure instanceof ApiUnreachableError)) return false;
  // fetch wraps the socket's error: ECONNRESET, or undici's "other side closed".
  const cause = (failure.cause as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET';
}

/** Full jitter over an exponential ceiling: retry n waits up to base * 2^(n-1), capped. */
export function backoffMs(policy: RetryPolicy, failedAttempt: number, random: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}

/** Retry-After as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - nowMs;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_MS);
}
