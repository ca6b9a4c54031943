import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildQuery, encodeRfc3986, type SignRequestInput, signRequest } from '../../cli/api/sigv4-signer.ts';
import { SignatureError, type VerifyOptions, verifySigV4 } from '../../cli/local/sigv4-verifier.ts';

const SIGNED_AT = new Date('2026-03-14T15:09:26Z');
const REGION = 'eu-west-1';
const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret' };
const ALICE_ARN = 'arn:aws:iam::123456789012:user/alice';

const accounts: Record<string, { secretAccessKey: string; principal: string }> = {
  AKIDALICE: { secretAccessKey: 'alice-secret', principal: ALICE_ARN },
};

interface Case {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: SignRequestInput['credentials'];
  region?: string;
  service?: string;
  date?: Date;
}

async function sign(c: Case = {}): Promise<{ url: URL; headers: Record<string, string>; body: string }> {
  const url = new URL(c.url ?? 'http://127.0.0.1:4010/clusters');
  const headers = await signRequest({
    method: c.method ?? 'GET',
    url,
    ...(c.headers ? { headers: c.headers } : {}),
    ...(c.body !== undefined ? { body: c.body } : {}),
    credentials: c.credentials ?? ALICE,
    region: c.region ?? REGION,
    ...(c.service ? { service: c.service } : {}),
    date: c.date ?? SIGNED_AT,
  });
  return { url, headers, body: c.body ?? '' };
}

function verify(
  request: { url: URL; headers: Record<string, string>; body: string },
  options: Partial<VerifyOptions> & { method?: string } = {},
) {
  const { method, ...rest } = options;
  return verifySigV4(
    {
      method: method ?? 'GET',
      path: request.url.pathname,
      rawQuery: request.url.search.slice(1),
      headers: request.headers,
      body: Buffer.from(request.body),
    },
    { region: REGION, now: SIGNED_AT, lookup: (id) => accounts[id], ...rest },
  );
}

describe('encodeRfc3986', () => {
  it('encodes everything but unreserved characters, including the ones encodeURIComponent keeps', () => {
    expect(encodeRfc3986("a b+c*d!e'f(g)h~i-j_k.l/m")).toBe('a%20b%2Bc%2Ad%21e%27f%28g%29h~i-j_k.l%2Fm');
  });
});

describe('buildQuery', () => {
  it('sorts keys, encodes strictly, writes %20 for a space and skips undefined values', () => {
    expect(buildQuery({ name: 'my c', filter: 'a*b', all: undefined, plus: '1+1' })).toBe(
      'filter=a%2Ab&name=my%20c&plus=1%2B1',
    );
  });

  it('returns an empty string when every value is undefined', () => {
    expect(buildQuery({ a: undefined })).toBe('');
  });
});

describe('signRequest', () => {
  it('returns host with the non-default port, x-amz-date, x-amz-content-sha256 and authorization', async () => {
    const { headers } = await sign({
      method: 'POST',
      body: '{"a":1}',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(headers).toMatchObject({
      host: '127.0.0.1:4010',
      'content-type': 'application/json',
      'x-amz-date': '20260314T150926Z',
      'x-amz-content-sha256': createHash('sha256').update('{"a":1}').digest('hex'),
    });
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDALICE\/20260314\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it('adds and signs x-amz-security-token when the credentials carry a session token', async () => {
    const { headers } = await sign({ credentials: { ...ALICE, sessionToken: 'session-token' } });
    expect(headers['x-amz-security-token']).toBe('session-token');
    expect(headers.authorization).toContain(
      'SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,',
    );
  });

  it('leaves the port out of host when it is the default one', async () => {
    const { headers } = await sign({ url: 'https://api.example.com/prod/clusters' });
    expect(headers.host).toBe('api.example.com');
  });
});

describe('verifySigV4 accepts what signRequest signs', () => {
  it('for a GET with a query holding spaces, "*", "+" and repeated keys', async () => {
    const query = `${buildQuery({ name: 'my c', filter: 'a*b', plus: '1+1' })}&tag=b&tag=a`;
    const request = await sign({ url: `http://127.0.0.1:4010/clusters?${query}` });
    await expect(verify(request)).resolves.toEqual({ accessKeyId: 'AKIDALICE', principal: ALICE_ARN });
  });

  it('for a POST with a JSON body', async () => {
    const request = await sign({
      method: 'POST',
      body: JSON.stringify({ name: 'demo', workers: 2 }),
      headers: { 'content-type': 'application/json' },
    });
    await expect(verify(request, { method: 'POST' })).resolves.toMatchObject({ principal: ALICE_ARN });
  });

  it('for an encoded path segment', async () => {
    const request = await sign({ method: 'DELETE', url: 'http://127.0.0.1:4010/clusters/my%20c' });
    expect(request.url.pathname).toBe('/clusters/my%20c');
    await expect(verify(request, { method: 'DELETE' })).resolves.toMatchObject({ principal: ALICE_ARN });
  });

  it('for a request with a session token', async () => {
    const request = await sign({ credentials: { ...ALICE, sessionToken: 'session-token' } });
    await expect(verify(request)).resolves.toMatchObject({ accessKeyId: 'AKIDALICE' });
  });

  it('when an unsigned header is added after signing', async () => {
    const request = await sign();
    request.headers['user-agent'] = 'curl/8';
    await expect(verify(request)).resolves.toMatchObject({ principal: ALICE_ARN });
  });

  it('within the allowed clock skew', async () => {
    const request = await sign();
    await expect(verify(request, { now: new Date(SIGNED_AT.getTime() + 4 * 60_000) })).resolves.toBeDefined();
  });
});

describe('verifySigV4 rejects', () => {
  it('a request without Authorization as a missing authentication token', async () => {
    const request = await sign();
    delete request.headers.authorization;
    await expect(verify(request)).rejects.toThrow(SignatureError);
    await expect(verify(request)).rejects.toMatchObject({
      code: 'MISSING_AUTHENTICATION_TOKEN',
      message: 'Missing Authentication Token',
    });
  });

  it('a malformed Authorization header', async () => {
    const request = await sign();
    request.headers.authorization =
      'AWS4-HMAC-SHA256 Credential=AKIDALICE/20260314/eu-west-1/execute-api/aws4_request';
    await expect(verify(request)).rejects.toThrow(SignatureError);
    await expect(verify(request)).rejects.toMatchObject({ code: 'INCOMPLETE_SIGNATURE' });
  });

  it('another algorithm than AWS4-HMAC-SHA256', async () => {
    const request = await sign();
    request.headers.authorization = request.headers.authorization!.replace(
      'AWS4-HMAC-SHA256',
      'AWS4-HMAC-SHA1',
    );
    await expect(verify(request)).rejects.toMatchObject({ code: 'INCOMPLETE_SIGNATURE' });
  });

  it('an unknown access key', async () => {
    const request = await sign({ credentials: { accessKeyId: 'AKIDMALLORY', secretAccessKey: 'x' } });
    await expect(verify(request)).rejects.toThrow(SignatureError);
    await expect(verify(request)).rejects.toMatchObject({ code: 'UNKNOWN_ACCESS_KEY' });
  });

  it('a signature made with the wrong secret', async () => {
    const request = await sign({ credentials: { ...ALICE, secretAccessKey: 'not-alice-secret' } });
    await expect(verify(request)).rejects.toThrow(SignatureError);
    await expect(verify(request)).rejects.toMatchObject({
      code: 'INVALID_SIGNATURE',
      message: expect.stringMatching(
        /^The request signature we calculated does not match the signature you provided/,
      ),
    });
  });

  it('a body changed after signing, when x-amz-content-sha256 was sent', async () => {
    const request = await sign({ method: 'POST', body: '{"workers":2}' });
    request.body = '{"workers":200}';
    await expect(verify(request, { method: 'POST' })).rejects.toMatchObject({
      code: 'INVALID_SIGNATURE',
      message: 'The x-amz-content-sha256 header does not match the request body.',
    });
  });

  it('a body changed after signing, when x-amz-content-sha256 was not sent', async () => {
    const request = await sign({ method: 'POST', body: '{"workers":2}' });
    delete request.headers['x-amz-content-sha256'];
    request.headers.authorization = request.headers.authorization!.replace('x-amz-content-sha256;', '');
    request.body = '{"workers":200}';
    await expect(verify(request, { method: 'POST' })).rejects.toThrow(SignatureError);
    await expect(verify(request, { method: 'POST' })).rejects.toMatchObject({ code: 'INVALID_SIGNATURE' });
  });

  it('a signed header changed after signing', async () => {
    const request = await sign({
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    request.headers['content-type'] = 'text/plain';
    await expect(verify(request, { method: 'POST' })).rejects.toMatchObject({ code: 'INVALID_SIGNATURE' });
  });

  it('a signed header missing from the request', async () => {
    const request = await sign({ headers: { 'x-custom': 'yes' } });
    delete request.headers['x-custom'];
    await expect(verify(request)).rejects.toMatchObject({ code: 'INVALID_SIGNATURE' });
  });

  it('a query changed after signing', async () => {
    const request = await sign({ url: 'http://127.0.0.1:4010/clusters?owner=alice' });
    request.url.search = '?owner=bob';
    await expect(verify(request)).rejects.toMatchObject({ code: 'INVALID_SIGNATURE' });
  });

  it('a request signed more than 5 minutes in the past', async () => {
    const request = await sign();
    const now = new Date(SIGNED_AT.getTime() + 6 * 60_000);
    await expect(verify(request, { now })).rejects.toThrow(SignatureError);
    await expect(verify(request, { now })).rejects.toMatchObject({
      code: 'SIGNATURE_EXPIRED',
      message:
        'Signature expired: 20260314T150926Z is now earlier than 20260314T151026Z (20260314T151526Z - 5 min.)',
    });
  });

  it('a request signed more than 5 minutes in the future', async () => {
    const request = await sign();
    const now = new Date(SIGNED_AT.getTime() - 6 * 60_000);
    await expect(verify(request, { now })).rejects.toMatchObject({
      code: 'SIGNATURE_NOT_YET_CURRENT',
      message: expect.stringMatching(/^Signature not yet current: 20260314T150926Z is still later than/),
    });
  });

  it('a request whose host is not signed', async () => {
    const request = await sign();
    request.headers.authorization = request.headers.authorization!.replace(
      'SignedHeaders=host;',
      'SignedHeaders=',
    );
    await expect(verify(request)).rejects.toMatchObject({
      code: 'INCOMPLETE_SIGNATURE',
      message: 'The host and x-amz-date headers must be signed.',
    });
  });

  it('a session token that is sent but not signed', async () => {
    const request = await sign();
    request.headers['x-amz-security-token'] = 'smuggled';
    await expect(verify(request)).rejects.toMatchObject({ code: 'INCOMPLETE_SIGNATURE' });
  });

  it('a credential scoped to another region', async () => {
    const request = await sign({ region: 'us-east-1' });
    await expect(verify(request)).rejects.toThrow(SignatureError);
    await expect(verify(request)).rejects.toMatchObject({ code: 'INVALID_CREDENTIAL_SCOPE' });
  });

  it('a credential scoped to another service', async () => {
    const request = await sign({ service: 's3' });
    await expect(verify(request)).rejects.toMatchObject({
      code: 'INVALID_CREDENTIAL_SCOPE',
      message: "Credential should be scoped to correct service: 'execute-api'.",
    });
  });

  it('a request without x-amz-date', async () => {
    const request = await sign();
    delete request.headers['x-amz-date'];
    await expect(verify(request)).rejects.toMatchObject({ code: 'INCOMPLETE_SIGNATURE' });
  });
});
