import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignRequestInput {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  credentials: SigningCredentials;
  region: string;
  /** @default 'execute-api' */
  service?: string;
  /** @default now */
  date?: Date;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** The hash constructor smithy's SignatureV4 needs (`@smithy/hash-node` is not a dependency). */
export class Sha256 {
  private readonly hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }

  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** Strict RFC 3986 encoding: only A-Z a-z 0-9 - _ . ~ stay as they are. */
export function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Decodes %XX sequences only: '+' stays '+', and a malformed '%' stays literal. */
export function decodePercent(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
      continue;
    }
    const codePoint = s.codePointAt(i)!;
    if (codePoint > 0xffff) i++;
    bytes.push(...Buffer.from(String.fromCodePoint(codePoint), 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Splits a raw query string (without '?') into decoded [key, value] pairs, in order. */
export function parseRawQuery(rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([decodePercent(key), decodePercent(value)]);
  }
  return pairs;
}

/**
 * Writes a sorted, strictly RFC 3986-encoded query string (no leading '?'), skipping undefined values.
 * Never URLSearchParams: it writes '+' for a space, which SigV4 signers disagree on.
 */
export function buildQuery(params: Record<string, string | undefined>): string {
  return Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${encodeRfc3986(key)}=${encodeRfc3986(value)}`)
    .sort()
    .join('&');
}

function queryRecord(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of parseRawQuery(rawQuery)) {
    const existing = Object.hasOwn(query, key) ? query[key] : undefined;
    if (existing === undefined) query[key] = value;
    else query[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

/**
 * Signs a request with SigV4 the way API Gateway's AWS_IAM auth expects it, and returns every header
 * to send: the caller's (lower-cased), host (with a non-default port), x-amz-date, x-amz-content-sha256,
 * x-amz-security-token (with a session token) and authorization.
 */
export async function signRequest(input: SignRequestInput): Promise<Record<string, string>> {
  const { url, credentials } = input;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
  // smithy does not derive host from hostname, and the port is part of what the server sees.
  headers.host = url.host;

  const signer = new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    region: input.region,
    service: input.service ?? 'execute-api',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: input.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: queryRecord(url.search.slice(1)),
      headers,
      body: input.body ?? '',
    },
    { signingDate: input.date ?? new Date() },
  );
  return { ...signed.headers };
}
