import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HttpReadinessProbe } from '../../lambdas/adapters/http/readiness-probe.ts';
import { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import { daskKind } from '../../lambdas/domain/kinds/dask/index.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { DASK_PROGRAMS, launchRequest } from '../support/dask-launch.ts';
import { waitFor } from '../support/dask-processes.ts';

const servers: Server[] = [];

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A fake dashboard: /health answers `health`, /json/identity.json answers `identity`. */
function dashboard(health: { status: number; body: string }, identity: string): RequestListener {
  return (request, response) => {
    if (request.url === '/health') {
      response.writeHead(health.status, { 'content-type': 'text/plain' }).end(health.body);
    } else if (request.url === '/json/identity.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(identity);
    } else {
      response.writeHead(404).end();
    }
  };
}

const twoWorkers = JSON.stringify({
  type: 'Scheduler',
  workers: { 'tcp://127.0.0.1:40001': { nthreads: 1 }, 'tcp://127.0.0.1:40002': { nthreads: 1 } },
});

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('HttpReadinessProbe', () => {
  const probe = new HttpReadinessProbe({ timeoutMs: 300 });

  it('answers each URL by its name with the status and the body', async () => {
    const url = await serve(dashboard({ status: 503, body: 'not ok' }, twoWorkers));

    expect(await probe.look({ health: `${url}/health`, identity: `${url}/json/identity.json` })).toEqual({
      health: { status: 503, body: 'not ok' },
      identity: { status: 200, body: twoWorkers },
    });
  });

  it('asks every URL at once', async () => {
    const waiting: Array<() => void> = [];
    const url = await serve((request, response) => {
      waiting.push(() => response.writeHead(200).end(request.url));
      // Each answer waits for both requests: asked one after the other, both would time out.
      if (waiting.length === 2) for (const answer of waiting) answer();
    });

    expect(await probe.look({ a: `${url}/a`, b: `${url}/b` })).toEqual({
      a: { status: 200, body: '/a' },
      b: { status: 200, body: '/b' },
    });
  });

  it('answers undefined for a URL that does not answer in time', async () => {
    const url = await serve(() => {});

    expect(await probe.look({ health: `${url}/health` })).toEqual({ health: undefined });
  });

  it('answers undefined for a refused connection', async () => {
    const url = await serve(() => {});
    const server = servers.pop();
    server?.close();
    if (server) await once(server, 'close');

    expect(await probe.look({ health: `${url}/health` })).toEqual({ health: undefined });
  });

  it('answers undefined for a body over its limit', async () => {
    const url = await serve((_request, response) => response.writeHead(200).end('x'.repeat(2048)));

    expect(await new HttpReadinessProbe({ maxBodyBytes: 1024 }).look({ big: url })).toEqual({
      big: undefined,
    });
  });

  it('uses the fetch it is given', async () => {
    const asked: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      asked.push(String(input));
      return new Response('ok');
    };

    const seen = await new HttpReadinessProbe({ fetch: fakeFetch }).look({
      health: 'http://10.0.0.5:8787/health',
    });

    expect(seen).toEqual({ health: { status: 200, body: 'ok' } });
    expect(asked).toEqual(['http://10.0.0.5:8787/health']);
  });
});

describe('the Dask kind, judging what the probe sees', () => {
  const probe = new HttpReadinessProbe({ timeoutMs: 300 });
  const clusterAt = (url: string, wantedWorkers: number, notebookUrl?: string): Cluster => {
    const { hostname, port } = new URL(url);
    const notebook = notebookUrl ? new URL(notebookUrl) : undefined;
    return {
      name: 'probed',
      plan: { wantedWorkers },
      instances: [
        {
          id: 'i-s',
          role: 'scheduler',
          privateIp: hostname,
          ports: { scheduler: 1, dashboard: Number(port) },
        },
        ...(notebook
          ? [
              {
                id: 'i-n',
                role: 'notebook',
                privateIp: notebook.hostname,
                ports: { notebook: Number(notebook.port) },
              },
            ]
          : []),
      ],
    } as unknown as Cluster;
  };
  const judge = async (cluster: Cluster) =>
    daskKind.judgeReadiness(cluster, await probe.look(daskKind.readinessChecks(cluster, 'private')));

  it('is ready once the dashboard answers ok and the wanted workers joined', async () => {
    const url = await serve(dashboard({ status: 200, body: 'ok' }, twoWorkers));

    expect(await judge(clusterAt(url, 2))).toEqual({
      ready: true,
      dashboardUp: true,
      workersJoined: 2,
      wantedWorkers: 2,
    });
  });

  it('sees a dashboard that answers 200 with another body as down', async () => {
    const url = await serve(dashboard({ status: 200, body: 'starting' }, twoWorkers));

    expect(await judge(clusterAt(url, 2))).toMatchObject({
      ready: false,
      dashboardUp: false,
      workersJoined: 0,
    });
  });

  it('counts no workers when identity.json is not JSON', async () => {
    const url = await serve(dashboard({ status: 200, body: 'ok' }, '{"workers": {'));

    expect(await judge(clusterAt(url, 2))).toMatchObject({ dashboardUp: true, workersJoined: 0 });
  });

  it('waits for the notebook Jupyter server to answer its status to the cluster token, sent as a header', async () => {
    const url = await serve(dashboard({ status: 200, body: 'ok' }, twoWorkers));
    const jupyter = await serve((request, response) => {
      if (request.url !== '/api/status') response.writeHead(404).end();
      else if (request.headers.authorization !== 'token tok-123') response.writeHead(403).end('{}');
      else response.writeHead(200).end(JSON.stringify({ started: '2026-12-07T09:14:33Z', kernels: 0 }));
    });
    const silent = await serve((_request, response) => response.writeHead(502).end());
    const withToken = async (cluster: Cluster, token: string) =>
      daskKind.judgeReadiness(
        cluster,
        await probe.look(daskKind.readinessChecks(cluster, 'private', { 'jupyter-token': token })),
      );

    expect(await withToken(clusterAt(url, 2, jupyter), 'tok-123')).toMatchObject({ ready: true });
    expect(await withToken(clusterAt(url, 2, jupyter), 'another')).toMatchObject({
      ready: false,
      missing: "the notebook (Jupyter) refused the cluster's token",
    });
    expect(await withToken(clusterAt(url, 2, silent), 'tok-123')).toMatchObject({
      ready: false,
      missing: 'the notebook (Jupyter) did not answer',
    });
  });

  it('sees a dashboard that never answers as down once the timeout passes', async () => {
    const url = await serve(() => {});

    expect(await judge(clusterAt(url, 2))).toMatchObject({ dashboardUp: false, workersJoined: 0 });
  });
});

describe('HttpReadinessProbe against a real scheduler', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'bilbo-probe-'));
  const provider = new LocalProcessProvider({ stateDir, programs: DASK_PROGRAMS });

  afterAll(async () => {
    const records = await provider.registry.list();
    await provider.terminate(records.map((record) => record.id));
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('sees the scheduler come up with no workers', async () => {
    const [scheduler] = await provider.launch(launchRequest());
    const cluster = {
      name: 'real',
      plan: { wantedWorkers: 1 },
      instances: [
        { id: scheduler!.id, role: 'scheduler', privateIp: scheduler!.privateIp, ports: scheduler!.ports },
      ],
    } as unknown as Cluster;
    const probe = new HttpReadinessProbe();

    const seen = await waitFor('the dashboard to come up', async () => {
      const verdict = daskKind.judgeReadiness(
        cluster,
        await probe.look(daskKind.readinessChecks(cluster, 'public')),
      );
      return verdict.dashboardUp ? verdict : undefined;
    });

    expect(seen).toEqual({
      ready: false,
      dashboardUp: true,
      workersJoined: 0,
      wantedWorkers: 1,
      missing: 'only 0/1 Dask workers joined',
    });
  });
});
