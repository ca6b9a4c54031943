import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HttpReadinessProbe } from '../../lambdas/adapters/http/readiness-probe.ts';
import { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import { DASK_PYTHON, launchRequest } from '../support/dask-launch.ts';
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

  it('sees a dashboard whose health check fails as down', async () => {
    const url = await serve(dashboard({ status: 503, body: 'not ok' }, twoWorkers));

    expect(await probe.observe({ dashboardUrl: url, wantedWorkers: 2 })).toEqual({
      dashboardUp: false,
      workersJoined: 0,
    });
  });

  it('asks the notebook Jupyter server for its version when told where it is', async () => {
    const dashboardUrl = await serve(dashboard({ status: 200, body: 'ok' }, twoWorkers));
    const jupyter = await serve((request, response) => {
      if (request.url === '/api') response.writeHead(200).end(JSON.stringify({ version: '2.14.2' }));
      else response.writeHead(404).end();
    });
    const silent = await serve((_request, response) => response.writeHead(502).end());

    expect(await probe.observe({ dashboardUrl, wantedWorkers: 2, notebookUrl: jupyter })).toEqual({
      dashboardUp: true,
      workersJoined: 2,
      notebookUp: true,
    });
    expect(await probe.observe({ dashboardUrl, wantedWorkers: 2, notebookUrl: silent })).toMatchObject({
      notebookUp: false,
    });
  });

  it('sees a dashboard that answers 200 with another body as down', async () => {
    const url = await serve(dashboard({ status: 200, body: 'starting' }, twoWorkers));

    expect(await probe.observe({ dashboardUrl: url, wantedWorkers: 2 })).toEqual({
      dashboardUp: false,
      workersJoined: 0,
    });
  });

  it('sees an up dashboard with no workers', async () => {
    const url = await serve(dashboard({ status: 200, body: 'ok' }, JSON.stringify({ workers: {} })));

    expect(await probe.observe({ dashboardUrl: url, wantedWorkers: 2 })).toEqual({
      dashboardUp: true,
      workersJoined: 0,
    });
  });

  it('counts the workers that joined, whatever the trailing slash', async () => {
    const url = await serve(dashboard({ status: 200, body: 'ok' }, twoWorkers));

    expect(await probe.observe({ dashboardUrl: `${url}/`, wantedWorkers: 2 })).toEqual({
      dashboardUp: true,
      workersJoined: 2,
    });
  });

  it('counts no workers when identity.json is not JSON', async () => {
    const url = await serve(dashboard({ status: 200, body: 'ok' }, '{"workers": {'));

    expect(await probe.observe({ dashboardUrl: url, wantedWorkers: 2 })).toEqual({
      dashboardUp: true,
      workersJoined: 0,
    });
  });

  it('sees a dashboard that never answers as down once the timeout passes', async () => {
    const url = await serve(() => {});

    expect(await probe.observe({ dashboardUrl: url, wantedWorkers: 2 })).toEqual({
      dashboardUp: false,
      workersJoined: 0,
    });
  });

  it('sees a refused connection as down', async () => {
    const url = await serve(() => {});
    const server = servers.pop();
    server?.close();
    if (server) await once(server, 'close');

    expect(await probe.observe({ dashboardUrl: url, wantedWorkers: 2 })).toEqual({
      dashboardUp: false,
      workersJoined: 0,
    });
  });

  it('uses the fetch it is given', async () => {
    const asked: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      asked.push(String(input));
      return new Response(String(input).endsWith('/health') ? 'ok' : twoWorkers);
    };

    const seen = await new HttpReadinessProbe({ fetch: fakeFetch }).observe({
      dashboardUrl: 'http://10.0.0.5:8787',
      wantedWorkers: 2,
    });

    expect(seen).toEqual({ dashboardUp: true, workersJoined: 2 });
    expect(asked).toEqual(['http://10.0.0.5:8787/health', 'http://10.0.0.5:8787/json/identity.json']);
  });
});

describe('HttpReadinessProbe against a real scheduler', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'bilbo-probe-'));
  const provider = new LocalProcessProvider({ stateDir, python: DASK_PYTHON });

  afterAll(async () => {
    const records = await provider.registry.list();
    await provider.terminate(records.map((record) => record.id));
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('sees the scheduler come up with no workers', async () => {
    const [scheduler] = await provider.launch(launchRequest());
    const probe = new HttpReadinessProbe();
    const target = { dashboardUrl: `http://127.0.0.1:${scheduler?.ports?.dashboard}`, wantedWorkers: 1 };

    const seen = await waitFor('the dashboard to come up', async () => {
      const observation = await probe.observe(target);
      return observation.dashboardUp ? observation : undefined;
    });

    expect(seen).toEqual({ dashboardUp: true, workersJoined: 0 });
  });
});
