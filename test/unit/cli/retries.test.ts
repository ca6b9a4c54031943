import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiClient } from '../../../cli/api/client.ts';
import { createSignedHttp } from '../../../cli/api/http.ts';
import {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  retryAfterMs,
  withRetries,
} from '../../../cli/api/retrying-http.ts';
import { ApiRequestError } from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import { aCluster, fakeFactory } from './fakes.ts';

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'reset';

/** A loopback API that gives the scripted answers in order (the last one repeating), and counts requests. */
async function scriptedServer(answers: Answer[]) {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
    if (answer === 'reset') {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body ?? {}));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ server, sockets });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const servers: Array<{ server: Server; sockets: Set<Socket> }> = [];
afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

function retryingClient(url: string) {
  const lines: string[] = [];
  const waits: number[] = [];
  const http = createSignedHttp({
    endpoint: url,
    region: 'us-east-1',
    credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
  });
  const api = createApiClient(
    withRetries(http, {
      log: (line) => lines.push(line),
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
    }),
  );
  return { api, lines, waits };
}

describe('withRetries', () => {
  it('retries a throttled request, honouring Retry-After, and says so', async () => {
    const server = await scriptedServer([
      { status: 429, body: { message: 'Too Many Requests' }, headers: { 'retry-after': '2' } },
      { status: 200, body: aCluster() },
    ]);
    const { api, lines, waits } = retryingClient(server.url);

    expect((await api.getCluster('analytics')).name).toBe('analytics');
    expect(server.seen).toHaveLength(2);
    expect(waits).toEqual([2000]);
    expect(lines).toEqual(['throttled (429), retrying in 2.0 s (attempt 2 of 5)']);
  });

  it('gives up on a GET after every attempt answered 500, with an error naming the attempts', async () => {
    const server = await scriptedServer([{ status: 500, body: { code: 'INTERNAL', message: 'boom' } }]);
    const { api, lines } = retryingClient(server.url);

    const getting = api.getCluster('analytics');
    await expect(getting).rejects.toThrow(ApiRequestError);
    await expect(getting).rejects.toThrow('boom (gave up after 5 attempts)');
    expect(server.seen).toHaveLength(DEFAULT_RETRY_POLICY.attempts);
    expect(lines.at(-1)).toBe('the bilbo API answered 500, retrying in 3.0 s (attempt 5 of 5)');
  });

  it('retries a create on 429 only: a 5xx after POST /clusters may come after the write', async () => {
    const throttled = await scriptedServer([{ status: 429 }, { status: 202, body: aCluster() }]);
    expect((await retryingClient(throttled.url).api.createCluster({ name: 'a', profile: {} })).name).toBe(
      'analytics',
    );
    expect(throttled.seen).toEqual(['POST /clusters', 'POST /clusters']);

    const failing = await scriptedServer([{ status: 502, body: { message: 'Bad Gateway' } }]);
    await expect(retryingClient(failing.url).api.createCluster({ name: 'a', profile: {} })).rejects.toThrow(
      /^Bad Gateway$/,
    );
    expect(failing.seen).toHaveLength(1);
  });

  it('retries POST /plan on 5xx: it writes nothing', async () => {
    const server = await scriptedServer([
      { status: 503 },
      { status: 200, body: { cluster: 'a', roles: [] } },
    ]);
    await retryingClient(server.url).api.plan({ name: 'a', profile: {} });
    expect(server.seen).toHaveLength(2);
  });

  it('retries a GET whose connection was reset', async () => {
    const server = await scriptedServer(['reset', { status: 200, body: { clusters: [] } }]);
    const { api, lines } = retryingClient(server.url);

    expect(await api.listClusters()).toEqual([]);
    expect(lines).toEqual([expect.stringMatching(/^the connection was reset, retrying in 0\.4 s/)]);
  });

  it('leaves other answers alone', async () => {
    const server = await scriptedServer([
      { status: 404, body: { code: 'NOT_FOUND', message: 'no such cluster' } },
    ]);
    await expect(retryingClient(server.url).api.getCluster('x')).rejects.toThrow(/^no such cluster$/);
    expect(server.seen).toHaveLength(1);
  });
});

describe('bilbo against an API that keeps failing', () => {
  it('exits 1 after its retries, each said on stderr', async () => {
    const server = await scriptedServer([{ status: 503, body: { message: 'Service Unavailable' } }]);
    const { api } = retryingClient(server.url);
    const fake = fakeFactory({ api });

    expect(await main(['ls'], fake.f)).toBe(1);
    expect(fake.stderr.text).toContain('error: Service Unavailable (gave up after 5 attempts)');
  });
});

describe('backoff', () => {
  it('doubles up to the cap, with jitter in the upper half', () => {
    const policy = { attempts: 9, baseDelayMs: 500, maxDelayMs: 8_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n, 0))).toEqual([
      250, 500, 1000, 2000, 4000, 4000,
    ]);
    expect(backoffMs(policy, 6, 0.999)).toBeLessThanOrEqual(8_000);
  });

  it('reads Retry-After as seconds or a date, capped at 30 s', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('3600', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});
