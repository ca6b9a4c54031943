import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQuery, signRequest } from '../../cli/api/sigv4-signer.ts';
import { type RunningApiServer, startApiServer } from '../../cli/local/api-server.ts';
import { verifySigV4 } from '../../cli/local/sigv4-verifier.ts';
import { assertBotocoreInstalled, runBotocore } from '../support/botocore/python.ts';

const REGION = 'eu-west-1';
const AMZ_DATE = '20260314T150926Z';
const SIGNED_AT = new Date('2026-03-14T15:09:26Z');
const KEYS = { accessKeyId: 'AKIDINTEROP', secretAccessKey: 'interop/secret+key' };
const PRINCIPAL = 'arn:aws:iam::123456789012:user/interop';
const lookup = (id: string) =>
  id === KEYS.accessKeyId ? { secretAccessKey: KEYS.secretAccessKey, principal: PRINCIPAL } : undefined;

interface Case {
  name: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  sessionToken?: string;
}

const cases: Case[] = [
  {
    name: 'a POST with a JSON body',
    method: 'POST',
    url: 'http://127.0.0.1:4010/clusters',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'demo', workers: 2 }),
  },
  {
    name: 'a GET with a strictly encoded query with repeated keys',
    method: 'GET',
    url: `http://127.0.0.1:4010/clusters?${buildQuery({ owner: 'alice smith', filter: 'a*b', plus: '1+1' })}&tag=b&tag=a`,
  },
  { name: 'an encoded path segment', method: 'DELETE', url: 'http://127.0.0.1:4010/clusters/my%20c' },
  {
    name: 'a session token',
    method: 'GET',
    url: 'http://127.0.0.1:4010/clusters/demo',
    sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDH+token=',
  },
];

/** What node's HTTP server hands over: lower-cased names, plus the host header the client sends. */
function asReceived(url: URL, headers: Record<string, string>): Record<string, string> {
  const received: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(headers)) received[name.toLowerCase()] = value;
  return received;
}

function verifyCase(c: Case, headers: Record<string, string>) {
  const url = new URL(c.url);
  return verifySigV4(
    {
      method: c.method,
      path: url.pathname,
      rawQuery: url.search.slice(1),
      headers: asReceived(url, headers),
      body: Buffer.from(c.body ?? ''),
    },
    { region: REGION, now: SIGNED_AT, lookup },
  );
}

beforeAll(assertBotocoreInstalled);

describe('botocore signs, verifySigV4 accepts', () => {
  let signed: Array<Record<string, string>>;
  let signedWithWrongSecret: Array<Record<string, string>>;

  beforeAll(async () => {
    const input = (secretAccessKey: string) =>
      cases.map((c) => ({ ...c, ...KEYS, secretAccessKey, region: REGION, amzDate: AMZ_DATE }));
    signed = (await runBotocore('sign', input(KEYS.secretAccessKey))) as typeof signed;
    signedWithWrongSecret = (await runBotocore('sign', input('wrong'))) as typeof signed;
  });

  it.each(cases.map((c, i) => [c.name, i] as const))('%s', async (_name, i) => {
    await expect(verifyCase(cases[i]!, signed[i]!)).resolves.toEqual({
      accessKeyId: KEYS.accessKeyId,
      principal: PRINCIPAL,
    });
  });

  it.each(cases.map((c, i) => [c.name, i] as const))(
    'and rejects %s signed with another secret',
    async (_n, i) => {
      await expect(verifyCase(cases[i]!, signedWithWrongSecret[i]!)).rejects.toMatchObject({
        code: 'INVALID_SIGNATURE',
      });
    },
  );
});

describe('signRequest signs, botocore computes the same Authorization', () => {
  async function signAll(secretAccessKey: string) {
    return Promise.all(
      cases.map(async (c) => {
        const credentials = { ...KEYS, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
        const headers = await signRequest({
          method: c.method,
          url: new URL(c.url),
          ...(c.headers ? { headers: c.headers } : {}),
          ...(c.body !== undefined ? { body: c.body } : {}),
          credentials: { ...credentials, secretAccessKey },
          region: REGION,
          date: SIGNED_AT,
        });
        return { ...c, headers, ...credentials, region: REGION };
      }),
    );
  }

  let verdicts: Array<{ match: boolean; bodyHashOk: boolean }>;
  let wrongSecretVerdicts: Array<{ match: boolean }>;

  beforeAll(async () => {
    verdicts = (await runBotocore('check', await signAll(KEYS.secretAccessKey))) as typeof verdicts;
    wrongSecretVerdicts = (await runBotocore('check', await signAll('wrong'))) as typeof wrongSecretVerdicts;
  });

  it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    expect(verdicts[i]).toMatchObject({ match: true, bodyHashOk: true });
  });

  it.each(cases.map((c, i) => [c.name, i] as const))(
    'and tells %s apart when signed with another secret',
    (_n, i) => {
      expect(wrongSecretVerdicts[i]).toMatchObject({ match: false });
    },
  );
});

describe('botocore signs and sends over HTTP, the local API server lets it through', () => {
  let api: RunningApiServer;
  const seen: APIGatewayProxyEvent[] = [];

  beforeAll(async () => {
    api = await startApiServer({
      region: REGION,
      lookupCredentials: lookup,
      handler: async (event) => {
        seen.push(event);
        return { statusCode: 200, body: JSON.stringify({ owner: event.requestContext.identity.userArn }) };
      },
    });
  });
  afterAll(() => api.close());

  it('with the principal as the caller', async () => {
    const response = await runBotocore('send', {
      method: 'POST',
      url: `${api.url}/clusters/my%20c?${buildQuery({ owner: 'alice smith' })}`,
      headers: { 'Content-Type': 'application/json' },
      body: '{"workers":2}',
      ...KEYS,
      region: REGION,
    });
    expect(response).toEqual({ status: 200, body: JSON.stringify({ owner: PRINCIPAL }) });
    expect(seen.at(-1)).toMatchObject({
      path: '/clusters/my%20c',
      queryStringParameters: { owner: 'alice smith' },
      body: '{"workers":2}',
    });
  });
});
