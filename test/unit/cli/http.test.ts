import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../../../cli/api/client.ts';
import { createSignedHttp, pathOf } from '../../../cli/api/http.ts';
import { ApiRequestError, ApiUnreachableError, AuthError } from '../../../cli/errors.ts';
import { aCluster, aCommand, anEvent } from './fakes.ts';

const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

function answering(status: number, body: unknown) {
  return vi.fn(
    async (_url: URL | string | Request, _init?: RequestInit) =>
      new Response(typeof body === 'string' ? body : JSON.stringify(body), { status }),
  );
}

function clientWith(fetch: typeof globalThis.fetch, endpoint = 'https://api.example.com/prod') {
  return createApiClient(createSignedHttp({ endpoint, region: 'eu-west-1', credentials, fetch }));
}

describe('createSignedHttp', () => {
  it('signs the request for execute-api and sends the JSON body', async () => {
    const fetch = answering(202, aCluster());
    await clientWith(fetch).createCluster({ name: 'analytics', profile: {} });
    const [url, init] = fetch.mock.calls[0]!;
    expect(String(url)).toBe('https://api.example.com/prod/clusters');
    expect(init?.method).toBe('POST');
    expect(init?.body).toBe('{"name":"analytics","profile":{}}');
    const headers = init?.headers as Record<string, string>;
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\//,
    );
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(headers['content-type']).toBe('application/json');
  });

  it('encodes path segments and builds strict RFC 3986 queries', async () => {
    const fetch = answering(200, { events: [] });
    await clientWith(fetch).events('odd name', { after: 'e*1' });
    expect(String(fetch.mock.calls[0]![0])).toBe(
      'https://api.example.com/prod/clusters/odd%20name/events?after=e%2A1',
    );
  });

  it('asks for ended clusters only with all=true', async () => {
    const fetch = answering(200, { clusters: [] });
    const client = clientWith(fetch);
    await client.listClusters();
    await client.listClusters({ all: true });
    expect(fetch.mock.calls.map(([url]) => String(url))).toEqual([
      'https://api.example.com/prod/clusters',
      'https://api.example.com/prod/clusters?all=true',
    ]);
  });

  it('turns a 403 into an AuthError that mentions credentials and BILBO_ENDPOINT', async () => {
    const getting = clientWith(answering(403, { message: 'Forbidden' })).getCluster('analytics');
    await expect(getting).rejects.toThrow(AuthError);
    await expect(getting).rejects.toThrow(/AWS credentials.*BILBO_ENDPOINT/);
  });

  it('turns a 4xx ApiError body into an ApiRequestError carrying status, code and field', async () => {
    const creating = clientWith(
      answering(409, {
        code: 'CLUSTER_EXISTS',
        message: 'A live cluster named "analytics" already exists.',
        field: 'name',
      }),
    ).createCluster({ name: 'analytics', profile: {} });
    await expect(creating).rejects.toThrow(ApiRequestError);
    await expect(creating).rejects.toMatchObject({ status: 409, code: 'CLUSTER_EXISTS', field: 'name' });
  });

  it('turns a 5xx without a JSON body into an ApiRequestError with the status', async () => {
    const getting = clientWith(answering(502, 'Bad Gateway')).getCluster('analytics');
    await expect(getting).rejects.toMatchObject({ status: 502, code: 'HTTP_502', message: 'Bad Gateway' });
  });

  it('returns the parsed records on success', async () => {
    const client = clientWith(answering(200, { events: [anEvent(1, 'recorded')] }));
    expect(await client.events('analytics')).toEqual([anEvent(1, 'recorded')]);
  });

  it('says `bilbo local` may not be running when the connection is refused', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const getting = clientWith(fetch, `http://127.0.0.1:${port}`).getCluster('analytics');
    await expect(getting).rejects.toThrow(ApiUnreachableError);
    await expect(getting).rejects.toThrow(
      `cannot reach the bilbo API at http://127.0.0.1:${port}: is \`bilbo local\` running? (set BILBO_ENDPOINT)`,
    );
  });

  it('fails with an AuthError, before any request, when there are no AWS credentials', async () => {
    const fetch = answering(200, { clusters: [] });
    const http = createSignedHttp({
      endpoint: 'https://api.example.com',
      region: 'us-east-1',
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
      fetch,
    });
    const listing = createApiClient(http).listClusters();
    await expect(listing).rejects.toThrow(AuthError);
    await expect(listing).rejects.toThrow(/no AWS credentials found.*bilbo local/);
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('pathOf', () => {
  it('encodes each segment', () => {
    expect(pathOf('clusters', 'a/b c', 'events')).toBe('/clusters/a%2Fb%20c/events');
  });
});

describe('the API client', () => {
  it('hands on what another user wrote with its control characters written out, never as escapes', async () => {
    const planted = aCluster({ profileName: 'x\u001b]0;owned\u0007\u009b2J' });
    const fetch = answering(200, planted);

    const cluster = await clientWith(fetch).getCluster('analytics');

    expect(cluster.profileName).toBe('x\\u001b]0;owned\\u0007\\u009b2J');
  });

  it('writes out control characters in the messages of refused requests too', async () => {
    const fetch = answering(400, { code: 'VALIDATION_FAILED', message: 'bad \u001b[31mred' });

    await expect(clientWith(fetch).getCluster('analytics')).rejects.toThrow('bad \\u001b[31mred');
  });

  it("passes a command's output on as written, and writes out control characters in its record", async () => {
    const fetch = answering(200, {
      command: aCommand({ what: 'echo \u001b[2J' }),
      output: [{ instanceId: 'i-scheduler0', stdout: '\u001b[31mred\r\n', stderr: 'tab\t' }],
      next: '12:4',
    });

    const answer = await clientWith(fetch).getCommandOutput('analytics', 'cmd-00000000000000a1', {
      offset: '3:0',
      wait: 20,
    });

    expect(String(fetch.mock.calls[0]![0])).toBe(
      'https://api.example.com/prod/clusters/analytics/commands/cmd-00000000000000a1?offset=3%3A0&wait=20',
    );
    expect(answer.output).toEqual([
      { instanceId: 'i-scheduler0', stdout: '\u001b[31mred\r\n', stderr: 'tab\t' },
    ]);
    expect(answer.command.what).toBe('echo \\u001b[2J');
    expect(answer.next).toBe('12:4');
  });

  it('refuses command output without a cursor, which would repeat the output', async () => {
    const fetch = answering(200, { command: aCommand(), output: [] });
    await expect(clientWith(fetch).getCommandOutput('analytics', 'cmd-00000000000000a1')).rejects.toThrow(
      'without "next"',
    );
  });

  it('starts, cancels and lists commands on their routes', async () => {
    const fetch = vi.fn(async (_url: URL | string | Request, init?: RequestInit) =>
      Response.json(init?.method === 'GET' ? { commands: [aCommand()] } : aCommand(), {
        status: init?.method === 'GET' ? 200 : 202,
      }),
    );
    const client = clientWith(fetch);
    await client.startCommand('analytics', { target: 'all', command: 'uptime' });
    await client.cancelCommand('analytics', 'cmd-00000000000000a1');
    expect(await client.listCommands('analytics')).toEqual([aCommand()]);
    expect(fetch.mock.calls.map(([url, init]) => `${init?.method} ${String(url)}`)).toEqual([
      'POST https://api.example.com/prod/clusters/analytics/commands',
      'DELETE https://api.example.com/prod/clusters/analytics/commands/cmd-00000000000000a1',
      'GET https://api.example.com/prod/clusters/analytics/commands',
    ]);
    expect(fetch.mock.calls[0]![1]?.body).toBe('{"target":"all","command":"uptime"}');
  });
});
