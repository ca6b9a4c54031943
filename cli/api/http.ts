import { ApiUnreachableError, AuthError } from '../errors.ts';
import { buildQuery, signRequest } from './sigv4-signer.ts';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type CredentialsProvider = () => Promise<Credentials>;

export interface HttpResponse {
  status: number;
  /** The parsed JSON body; undefined when the body is empty or not JSON. */
  json: unknown;
  text: string;
  headers?: Headers;
  /** How many attempts this answer took, when retries gave up on it. */
  attempts?: number;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Safe to repeat after a 5xx or a reset connection (GET always is). */
  idempotent?: boolean;
}

export interface SignedHttp {
  readonly endpoint: string;
  /** `path` starts with '/' and has its segments already encoded (see `pathOf`). */
  request(method: HttpMethod, path: string, options?: RequestOptions): Promise<HttpResponse>;
}

export interface SignedHttpOptions {
  endpoint: string;
  region: string;
  credentials: CredentialsProvider;
  fetch?: typeof fetch;
  /** Per request; a request that takes longer fails as unreachable. */
  timeoutMs?: number;
}

const SERVICE = 'execute-api';

/** Joins path segments, each encoded with encodeURIComponent. */
export function pathOf(...segments: string[]): string {
  return `/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

/** JSON over HTTP(S), SigV4-signed for API Gateway's IAM authorization. */
export function createSignedHttp(options: SignedHttpOptions): SignedHttp {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;

  return {
    endpoint,
    async request(method, path, { query, body } = {}) {
      const credentials = await resolveCredentials(options.credentials);
      const queryString = query ? buildQuery(query) : '';
      const url = new URL(`${endpoint}${path}${queryString ? `?${queryString}` : ''}`);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (payload !== undefined) headers['content-type'] = 'application/json';

      const signed = await signRequest({
        method,
        url,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        credentials,
        region: options.region,
        service: SERVICE,
      });

      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers: signed,
          ...(payload === undefined ? {} : { body: payload }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        if ((cause as Error).name === 'TimeoutError') {
          throw new ApiUnreachableError(endpoint, {
            cause,
            message: `the bilbo API at ${endpoint} did not answer within ${timeoutMs / 1000}s`,
          });
        }
        throw new ApiUnreachableError(endpoint, { cause });
      }
      const text = await response.text();
      return { status: response.status, json: parseJson(text), text, headers: response.headers };
    },
  };
}

async function resolveCredentials(provider: CredentialsProvider): Promise<Credentials> {
  try {
    return await provider();
  } catch (cause) {
    if (cause instanceof AuthError) throw cause;
    throw new AuthError(
      `no AWS credentials found: ${(cause as Error).message} ` +
        '(configure AWS credentials, e.g. AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE; ' +
        'for `bilbo local`, export the keys it printed)',
      { cause },
    );
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
