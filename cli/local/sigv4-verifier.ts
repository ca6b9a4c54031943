import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { encodeRfc3986, parseRawQuery } from '../api/sigv4-signer.ts';

export type SignatureErrorCode =
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'INCOMPLETE_SIGNATURE'
  | 'INVALID_CREDENTIAL_SCOPE'
  | 'UNKNOWN_ACCESS_KEY'
  | 'SIGNATURE_EXPIRED'
  | 'SIGNATURE_NOT_YET_CURRENT'
  | 'INVALID_SIGNATURE';

/** A request API Gateway's AWS_IAM auth would answer with 403. The message follows API Gateway's wording. */
export class SignatureError extends Error {
  constructor(
    readonly code: SignatureErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignatureError';
  }
}

export interface SignedHttpRequest {
  method: string;
  /** The raw path, still percent-encoded, without the query. */
  path: string;
  /** The raw query string, without '?'. */
  rawQuery: string;
  /** Node's lower-cased headers. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface VerifyOptions {
  region: string;
  /** @default 'execute-api' */
  service?: string;
  now: Date;
  lookup: (accessKeyId: string) => { secretAccessKey: string; principal: string } | undefined;
  /** @default 300_000 (5 min) */
  maxSkewMs?: number;
}

export interface VerifiedCaller {
  accessKeyId: string;
  principal: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

interface ParsedAuthorization {
  accessKeyId: string;
  scopeDate: string;
  scopeRegion: string;
  scopeService: string;
  signedHeaders: string[];
  signature: string;
}

function incomplete(message: string): SignatureError {
  return new SignatureError('INCOMPLETE_SIGNATURE', message);
}

function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(' ');
  const algorithm = space === -1 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incomplete(`Authorization header must use the ${ALGORITHM} algorithm.`);
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq !== -1) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const missing = [
    credential ? '' : "Authorization header requires 'Credential' parameter.",
    signedHeaders ? '' : "Authorization header requires 'SignedHeaders' parameter.",
    signature ? '' : "Authorization header requires 'Signature' parameter.",
  ].filter(Boolean);
  if (!credential || !signedHeaders || !signature) throw incomplete(missing.join(' '));

  const scope = credential.split('/');
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scope;
  if (scope.length !== 5 || !accessKeyId || !scopeDate || !scopeRegion || !scopeService) {
    throw incomplete(
      `Credential must have the form AKID/YYYYMMDD/REGION/SERVICE/aws4_request, not "${credential}".`,
    );
  }
  if (terminator !== 'aws4_request') {
    throw new SignatureError(
      'INVALID_CREDENTIAL_SCOPE',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`,
    );
  }
  return {
    accessKeyId,
    scopeDate,
    scopeRegion,
    scopeService,
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

function headerValue(headers: SignedHttpRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

function checkSkew(amzDate: string, signedAt: Date, now: Date, maxSkewMs: number): void {
  const minutes = `${Math.round(maxSkewMs / 60_000)} min.`;
  if (signedAt.getTime() < now.getTime() - maxSkewMs) {
    const earliest = formatAmzDate(new Date(now.getTime() - maxSkewMs));
    throw new SignatureError(
      'SIGNATURE_EXPIRED',
      `Signature expired: ${amzDate} is now earlier than ${earliest} (${formatAmzDate(now)} - ${minutes})`,
    );
  }
  if (signedAt.getTime() > now.getTime() + maxSkewMs) {
    const latest = formatAmzDate(new Date(now.getTime() + maxSkewMs));
    throw new SignatureError(
      'SIGNATURE_NOT_YET_CURRENT',
      `Signature not yet current: ${amzDate} is still later than ${latest} (${formatAmzDate(now)} + ${minutes})`,
    );
  }
}

/** Non-S3 SigV4 path: dot segments and empty segments removed, then each segment encoded again. */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  if (segments.length === 0) return '/';
  const trailing = rawPath.endsWith('/') ? '/' : '';
  return `/${segments.map(encodeRfc3986).join('/')}${trailing}`;
}

function canonicalQuery(rawQuery: string): string {
  return parseRawQuery(rawQuery)
    .map(([key, value]) => [encodeRfc3986(key), encodeRfc3986(value)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Verifies a SigV4-signed request the way API Gateway's AWS_IAM authorization does, and returns the
 * caller. Throws SignatureError (API Gateway answers 403) when the request is unsigned, malformed,
 * signed with an unknown key, out of the allowed clock skew, or its signature does not match.
 */
export async function verifySigV4(
  request: SignedHttpRequest,
  options: VerifyOptions,
): Promise<VerifiedCaller> {
  const service = options.service ?? 'execute-api';
  const maxSkewMs = options.maxSkewMs ?? 5 * 60_000;
  const { headers } = request;

  const authorization = headerValue(headers, 'authorization');
  if (!authorization)
    throw new SignatureError('MISSING_AUTHENTICATION_TOKEN', 'Missing Authentication Token');
  const auth = parseAuthorization(authorization);

  const amzDate = headerValue(headers, 'x-amz-date');
  if (!amzDate) {
    throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) throw incomplete(`X-Amz-Date must have the form YYYYMMDD'T'HHMMSS'Z', not "${amzDate}".`);
  if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('x-amz-date')) {
    throw incomplete('The host and x-amz-date headers must be signed.');
  }
  if (headerValue(headers, 'x-amz-security-token') !== undefined) {
    if (!auth.signedHeaders.includes('x-amz-security-token')) {
      throw incomplete('The x-amz-security-token header must be signed.');
    }
  }
  if (auth.scopeDate !== amzDate.slice(0, 8)) {
    throw new SignatureError(
      'INVALID_CREDENTIAL_SCOPE',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
        `'${auth.scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (auth.scopeRegion !== options.region) {
    throw new SignatureError(
      'INVALID_CREDENTIAL_SCOPE',
      `Credential should be scoped to a valid region, not '${auth.scopeRegion}'. Use '${options.region}'.`,
    );
  }
  if (auth.scopeService !== service) {
    throw new SignatureError(
      'INVALID_CREDENTIAL_SCOPE',
      `Credential should be scoped to correct service: '${service}'.`,
    );
  }

  const account = options.lookup(auth.accessKeyId);
  if (!account) {
    throw new SignatureError('UNKNOWN_ACCESS_KEY', 'The security token included in the request is invalid.');
  }
  checkSkew(amzDate, signedAt, options.now, maxSkewMs);

  const payloadHash = sha256Hex(request.body);
  const claimedHash = headerValue(headers, 'x-amz-content-sha256');
  // smithy-based signers put this header in the canonical request as-is, so it must be checked against the body.
  if (claimedHash !== undefined && claimedHash !== payloadHash) {
    throw new SignatureError(
      'INVALID_SIGNATURE',
      'The x-amz-content-sha256 header does not match the request body.',
    );
  }

  const canonicalHeaders: string[] = [];
  for (const name of auth.signedHeaders) {
    const value = headerValue(headers, name);
    if (value === undefined) throw new SignatureError('INVALID_SIGNATURE', SIGNATURE_MISMATCH);
    canonicalHeaders.push(`${name}:${value.trim().replace(/\s+/g, ' ')}`);
  }
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(request.path),
    canonicalQuery(request.rawQuery),
    `${canonicalHeaders.join('\n')}\n`,
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${auth.scopeDate}/${auth.scopeRegion}/${auth.scopeService}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${account.secretAccessKey}`, auth.scopeDate);
  const kSigning = hmac(hmac(hmac(kDate, auth.scopeRegion), auth.scopeService), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex'));
  const provided = Buffer.from(auth.signature);
  if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) {
    throw new SignatureError('INVALID_SIGNATURE', SIGNATURE_MISMATCH);
  }
  return { accessKeyId: auth.accessKeyId, principal: account.principal };
}
