import { once } from 'node:events';
import { connect } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildQuery, signRequest } from '../../cli/api/sigv4-signer.ts';
import { type ApiRequestLine, type RunningApiServer, startApiServer } from '../../cli/local/api-server.ts';

const REGION = 'eu-west-1';
const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret' };
const ALICE_ARN = 'arn:aws:iam::123456789012:user/alice';
const lookupCredentials = (id: string) =>
  id === ALICE.accessKeyId ? { secretAccessKey: ALICE.secretAccessKey, principal: ALICE_ARN } : undefined;

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const calls: Array<{ event: APIGatewayProxyEvent; context: Context }> = [];
const echo: Handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event) });
let behaviour = echo;
const handler: Handler = (event, context) => {
  calls.push({ event, context });
  return behaviour(event, context);
};

async function signedFetch(
  api: RunningApiServer,
  method: string,
  path: string,
  options: { body?: string; date?: Date; secretAccessKey?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const url = new URL(`${api.url}${path}`);
  const headers = await signRequest({
    method,
    url,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
    credentials: { ...ALICE, secretAccessKey: options.secretAccessKey ?? ALICE.secretAccessKey },
    region: REGION,
    ...(options.date ? { date: options.date } : {}),
  });
  return fetch(url, { method, headers, ...(options.body !== undefined ? { body: options.body } : {}) });
}

describe('startApiServer', () => {
  let api: RunningApiServer;
  const lines: ApiRequestLine[] = [];

  beforeAll(async () => {
    api = await startApiServer({
      region: REGION,
      lookupCredentials,
      handler,
      onRequest: (l) => lines.push(l),
    });
  });
  afterAll(() => api.close());
  afterEach(() => {
    calls.length = 0;
    lines.length = 0;
    behaviour = echo;
    vi.restoreAllMocks();
  });

  it('listens on loopback at the port it reports', () => {
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
    expect(api.port).toBeGreaterThan(0);
  });

  describe('for a correctly signed request', () => {
    it('calls the handler with a REST v1 proxy event whose caller is the verified principal', async () => {
      const query = `${buildQuery({ owner: 'alice smith', filter: 'a*b' })}&tag=x&tag=y`;
      const response = await signedFetch(api, 'GET', `/clusters/my%20c?${query}`, {
        headers: { 'X-Trace': 't1' },
      });

      expect(response.status).toBe(200);
      expect(calls).toHaveLength(1);
      const { event } = calls[0]!;
      expect(event).toMatchObject({
        httpMethod: 'GET',
        path: '/clusters/my%20c',
        resource: '/clusters/my%20c',
        pathParameters: null,
        body: null,
        isBase64Encoded: false,
        queryStringParameters: { owner: 'alice smith', filter: 'a*b', tag: 'y' },
        multiValueQueryStringParameters: { owner: ['alice smith'], filter: ['a*b'], tag: ['x', 'y'] },
        requestContext: {
          stage: 'local',
          httpMethod: 'GET',
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          identity: {
            accessKey: ALICE.accessKeyId,
            userArn: ALICE_ARN,
            accountId: '123456789012',
            sourceIp: '127.0.0.1',
          },
        },
      });
      expect(event.headers['x-trace']).toBe('t1');
      expect(event.multiValueHeaders['x-trace']).toEqual(['t1']);
    });

    it('passes a JSON body through as a string', async () => {
      await signedFetch(api, 'POST', '/clusters', { body: JSON.stringify({ name: 'demo', workers: 2 }) });
      expect(calls[0]!.event).toMatchObject({
        httpMethod: 'POST',
        body: '{"name":"demo","workers":2}',
        isBase64Encoded: false,
        queryStringParameters: null,
      });
    });

    it('gives the handler a Lambda context with API Gateway’s 29 s budget', async () => {
      await signedFetch(api, 'GET', '/clusters');
      const { context } = calls[0]!;
      expect(context.functionName).toBe('bilbo-api-local');
      expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(context.getRemainingTimeInMillis()).toBe(29_000);
    });

    it("writes the handler's status, headers and body", async () => {
      behaviour = async () => ({
        statusCode: 201,
        headers: { 'X-Cluster': 'demo' },
        multiValueHeaders: { 'X-Multi': ['a', 'b'] },
        body: '{"created":true}',
      });
      const response = await signedFetch(api, 'POST', '/clusters', { body: '{}' });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-cluster')).toBe('demo');
      expect(response.headers.get('x-multi')).toBe('a, b');
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(response.headers.get('x-amzn-requestid')).toBe(calls[0]!.event.requestContext.requestId);
      await expect(response.json()).resolves.toEqual({ created: true });
    });

    it('reports each request to onRequest', async () => {
      await signedFetch(api, 'DELETE', '/clusters/demo?force=true');
      expect(lines).toEqual([
        { method: 'DELETE', path: '/clusters/demo', status: 200, ms: expect.any(Number) },
      ]);
    });
  });

  describe('answers 403 without calling the handler', () => {
    it('for an unsigned request', async () => {
      const response = await fetch(`${api.url}/clusters`);
      expect(response.status).toBe(403);
      await expect(response.json()).resolves.toEqual({
        code: 'MISSING_AUTHENTICATION_TOKEN',
        message: 'Missing Authentication Token',
      });
      expect(calls).toHaveLength(0);
    });

    it('for a request signed with the wrong secret', async () => {
      const response = await signedFetch(api, 'GET', '/clusters', { secretAccessKey: 'not-alice-secret' });
      expect(response.status).toBe(403);
      await expect(response.json()).resolves.toMatchObject({ code: 'INVALID_SIGNATURE' });
      expect(calls).toHaveLength(0);
    });

    it('for a body changed after signing', async () => {
      const url = new URL(`${api.url}/clusters`);
      const headers = await signRequest({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        body: '{"workers":2}',
        credentials: ALICE,
        region: REGION,
      });
      const response = await fetch(url, { method: 'POST', headers, body: '{"workers":9}' });
      expect(response.status).toBe(403);
      await expect(response.json()).resolves.toMatchObject({ code: 'INVALID_SIGNATURE' });
      expect(calls).toHaveLength(0);
    });

    it('for a request signed more than 5 minutes ago', async () => {
      const response = await signedFetch(api, 'GET', '/clusters', {
        date: new Date(Date.now() - 6 * 60_000),
      });
      expect(response.status).toBe(403);
      await expect(response.json()).resolves.toMatchObject({ code: 'SIGNATURE_EXPIRED' });
      expect(calls).toHaveLength(0);
    });
  });

  describe('answers 413 without calling the handler for a body over 1 MiB', () => {
    const tooLarge = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });

    it('when the body declares its length', async () => {
      const response = await signedFetch(api, 'POST', '/clusters', { body: tooLarge });
      expect(response.status).toBe(413);
      await expect(response.json()).resolves.toEqual({
        code: 'PAYLOAD_TOO_LARGE',
        message: 'The request body is over 1 MiB.',
      });
      expect(calls).toHaveLength(0);
    });

    it('when the body is chunked', async () => {
      const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 32) controller.close();
          else controller.enqueue(chunk);
          sent++;
        },
      });
      const response = await fetch(`${api.url}/clusters`, {
        method: 'POST',
        body,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(calls).toHaveLength(0);
    });
  });

  it('answers 502 without the error details when the handler throws, and logs the request id', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    behaviour = async () => {
      throw new Error('secret internals at line 42');
    };
    const response = await signedFetch(api, 'GET', '/clusters');
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ code: 'INTERNAL', message: 'Internal server error' });
    expect(text).not.toContain('secret internals');
    expect(logged).toHaveBeenCalledWith(
      expect.stringContaining(calls[0]!.event.requestContext.requestId),
      expect.any(Error),
    );
  });

  it('logs one line, and no stack, when a client hangs up in the middle of its body', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { port } = new URL(api.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /clusters HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"name":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();

    await vi.waitFor(() => expect(logged).toHaveBeenCalled());
    expect(logged.mock.calls).toEqual([
      [expect.stringMatching(/: the client closed the connection before sending its whole body$/)],
    ]);
    expect(calls).toHaveLength(0);
  });

  it('answers 502 when the handler returns something that is not a proxy result', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    behaviour = async () => ({ body: 'no status' }) as unknown as APIGatewayProxyResult;
    const response = await signedFetch(api, 'GET', '/clusters');
    expect(response.status).toBe(502);
  });
});

describe('startApiServer close()', () => {
  it('stops listening and ends keep-alive connections', async () => {
    const api = await startApiServer({ region: REGION, lookupCredentials, handler });
    // No keep-alive timeout: the idle connection below stays open until close() ends it.
    api.server.keepAliveTimeout = 0;
    const response = await signedFetch(api, 'GET', '/clusters');
    await response.text();

    await api.close();

    expect(api.server.listening).toBe(false);
    await expect(fetch(`${api.url}/clusters`)).rejects.toThrow(TypeError);
  });
});
