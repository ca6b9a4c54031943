import { describe, expect, it } from 'vitest';
import {
  daskEndpoints,
  daskUrls,
  httpUrlOf,
  schedulerAddressOf,
} from '../../../../../lambdas/domain/kinds/dask/endpoints.ts';
import { daskKind } from '../../../../../lambdas/domain/kinds/dask/index.ts';
import {
  daskReadinessChecks,
  daskReadinessSecrets,
  judgeDaskReadiness,
} from '../../../../../lambdas/domain/kinds/dask/readiness.ts';
import type { HttpAnswer } from '../../../../../lambdas/domain/ports.ts';
import type { Cluster, ClusterInstance } from '../../../../../schemas/types.generated.ts';

const scheduler: ClusterInstance = {
  id: 'i-s',
  role: 'scheduler',
  index: 0,
  privateIp: '10.0.0.5',
  publicIp: '203.0.113.5',
};
const notebook: ClusterInstance = {
  id: 'i-n',
  role: 'notebook',
  index: 0,
  privateIp: '10.0.0.7',
  publicIp: '203.0.113.7',
};
const localScheduler: ClusterInstance = {
  id: 'i-local',
  role: 'scheduler',
  index: 0,
  privateIp: '127.0.0.1',
  ports: { scheduler: 40001, dashboard: 40002 },
};

describe('addresses', () => {
  it('writes the scheduler address as tcp://host:port and service URLs as base URLs', () => {
    expect(schedulerAddressOf('10.0.1.5', 8786)).toBe('tcp://10.0.1.5:8786');
    expect(httpUrlOf('127.0.0.1', 40123)).toBe('http://127.0.0.1:40123');
  });

  it('puts IPv6 hosts in brackets', () => {
    expect(schedulerAddressOf('::1', 8786)).toBe('tcp://[::1]:8786');
    expect(httpUrlOf('fd00::5', 8787)).toBe('http://[fd00::5]:8787');
  });
});

describe('daskEndpoints', () => {
  it('records the scheduler on its private address, and the URLs people use on the public one', () => {
    expect(daskEndpoints([scheduler, notebook], 'public')).toEqual({
      schedulerAddress: 'tcp://10.0.0.5:8786',
      dashboardUrl: 'http://203.0.113.5:8787',
      privateDashboardUrl: 'http://10.0.0.5:8787',
      notebookUrl: 'http://203.0.113.7:8888',
    });
  });

  it('uses private addresses for people when the profile asks for them', () => {
    expect(daskEndpoints([scheduler, notebook], 'private')).toMatchObject({
      dashboardUrl: 'http://10.0.0.5:8787',
      notebookUrl: 'http://10.0.0.7:8888',
    });
  });

  it('falls back to the private address of a machine with no public one yet, and uses ports a provider chose', () => {
    expect(daskEndpoints([localScheduler], 'public')).toEqual({
      schedulerAddress: 'tcp://127.0.0.1:40001',
      dashboardUrl: 'http://127.0.0.1:40002',
      privateDashboardUrl: 'http://127.0.0.1:40002',
    });
  });

  it('gives the other roles the scheduler on its private address', () => {
    expect(daskKind.primaryAddress(scheduler)).toBe('tcp://10.0.0.5:8786');
    expect(daskUrls([scheduler], 'public').schedulerAddress).toBe('tcp://203.0.113.5:8786');
  });
});

describe('readiness', () => {
  const cluster = (instances: ClusterInstance[], wantedWorkers = 2) =>
    ({
      name: 'analytics',
      instances,
      plan: { wantedWorkers, roles: [...new Set(instances.map((i) => i.role))].map((role) => ({ role })) },
    }) as unknown as Cluster;
  const ok = (body: string): HttpAnswer => ({ status: 200, body });
  const identity = (workers: number) =>
    ok(
      JSON.stringify({
        workers: Object.fromEntries(Array.from({ length: workers }, (_, i) => [`w${i}`, {}])),
      }),
    );

  const status = ok(
    JSON.stringify({ started: '2026-12-07T09:14:33Z', last_activity: '2026-12-07T09:14:33Z' }),
  );
  const tokens = { 'jupyter-token': 'tok-123' };

  it('looks at the dashboard’s health and identity, and the notebook’s status with its token, on the asked network', () => {
    expect(daskReadinessChecks(cluster([scheduler, notebook]), 'private', tokens)).toEqual({
      health: 'http://10.0.0.5:8787/health',
      identity: 'http://10.0.0.5:8787/json/identity.json',
      notebook: { url: 'http://10.0.0.7:8888/api/status', headers: { Authorization: 'token tok-123' } },
    });
    expect(daskReadinessChecks(cluster([scheduler]), 'public')).toEqual({
      health: 'http://203.0.113.5:8787/health',
      identity: 'http://203.0.113.5:8787/json/identity.json',
    });
  });

  it('asks for the notebook token only when the cluster has a notebook', () => {
    expect(daskReadinessSecrets(cluster([scheduler, notebook]))).toEqual(['jupyter-token']);
    expect(daskReadinessSecrets(cluster([scheduler]))).toEqual([]);
  });

  it('asks without a token when it has none, which Jupyter refuses', () => {
    const alone = cluster([notebook], 0);

    expect(daskReadinessChecks(alone, 'private')).toEqual({ notebook: 'http://10.0.0.7:8888/api/status' });
    expect(
      judgeDaskReadiness(alone, { notebook: { status: 403, body: '{"message": "Forbidden"}' } }),
    ).toMatchObject({ ready: false, missing: "the notebook (Jupyter) refused the cluster's token" });
  });

  it('looks at the notebook alone, and is ready once it answers, when there is no Dask', () => {
    const alone = cluster([notebook], 0);

    expect(daskReadinessChecks(alone, 'private', tokens)).toEqual({
      notebook: { url: 'http://10.0.0.7:8888/api/status', headers: { Authorization: 'token tok-123' } },
    });
    expect(judgeDaskReadiness(alone, { notebook: status })).toMatchObject({ ready: true, workersJoined: 0 });
    // The unauthenticated version page is not the status: a server that does not check tokens is not ready.
    expect(judgeDaskReadiness(alone, { notebook: ok('{"version":"1.23.3"}') }).ready).toBe(false);
    expect(judgeDaskReadiness(alone, {})).toMatchObject({
      ready: false,
      missing: 'the notebook (Jupyter) did not answer',
    });
  });

  it('is ready when the dashboard answers ok and the wanted workers joined', () => {
    expect(judgeDaskReadiness(cluster([scheduler]), { health: ok('ok'), identity: identity(2) })).toEqual({
      ready: true,
      dashboardUp: true,
      workersJoined: 2,
      wantedWorkers: 2,
    });
  });

  it('says what is missing', () => {
    expect(
      judgeDaskReadiness(cluster([scheduler]), { health: undefined, identity: undefined }),
    ).toMatchObject({
      ready: false,
      dashboardUp: false,
      missing: 'the Dask dashboard did not answer',
    });
    expect(
      judgeDaskReadiness(cluster([scheduler]), { health: ok('ok'), identity: identity(1) }),
    ).toMatchObject({
      ready: false,
      workersJoined: 1,
      missing: 'only 1/2 Dask workers joined',
    });
    const withNotebook = cluster([scheduler, notebook]);
    expect(
      judgeDaskReadiness(withNotebook, {
        health: ok('ok'),
        identity: identity(2),
        notebook: { status: 502, body: '' },
      }),
    ).toMatchObject({ ready: false, missing: 'the notebook (Jupyter) did not answer' });
    expect(
      judgeDaskReadiness(withNotebook, {
        health: ok('ok'),
        identity: identity(2),
        notebook: status,
      }),
    ).toMatchObject({ ready: true });
  });

  it('counts no workers from an answer that is not the identity JSON', () => {
    expect(
      judgeDaskReadiness(cluster([scheduler], 0), { health: ok('ok'), identity: ok('<html>') }).workersJoined,
    ).toBe(0);
    expect(
      judgeDaskReadiness(cluster([scheduler], 0), { health: ok('ok'), identity: ok('<html>') }).ready,
    ).toBe(true);
    expect(
      judgeDaskReadiness(cluster([scheduler], 0), { health: ok('not ok'), identity: identity(3) }),
    ).toMatchObject({ dashboardUp: false, workersJoined: 0 });
  });
});
