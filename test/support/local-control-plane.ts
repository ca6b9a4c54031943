import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BilboApi, createApiClient } from '../../cli/api/client.ts';
import { createSignedHttp } from '../../cli/api/http.ts';
import {
  type LocalControlPlane,
  type LocalControlPlaneOptions,
  startLocalControlPlane,
} from '../../cli/local/control-plane.ts';
import { processesOf } from './dask-processes.ts';

export interface TestControlPlane {
  plane: LocalControlPlane;
  home: string;
  api: BilboApi;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A signed client for one of the `users` the plane was started with. */
  apiAs(user: string): BilboApi;
  /** Live processes of every instance the provider ever started in this plane. */
  liveProcesses(clusterId?: string): Promise<number[]>;
  stop(): Promise<void>;
}

/** The real local control plane on a throwaway home, with a signed API client. */
export async function startTestControlPlane(
  options: Omit<LocalControlPlaneOptions, 'home' | 'log'> = {},
): Promise<TestControlPlane> {
  const home = mkdtempSync(join(tmpdir(), 'bilbo-test-home-'));
  const plane = await startLocalControlPlane({
    home,
    log: () => {},
    probeSettings: { intervalMs: 100, budgetMs: 5_000 },
    ...options,
  });
  const credentials = plane.credentials ?? {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
  };
  const clientFor = (signWith: { accessKeyId: string; secretAccessKey: string }) =>
    createApiClient(
      createSignedHttp({ endpoint: plane.endpoint, region: plane.region, credentials: async () => signWith }),
    );
  const api = clientFor(credentials);
  return {
    plane,
    home,
    api,
    credentials,
    apiAs(name) {
      const user = plane.users.find((candidate) => candidate.name === name);
      if (!user) throw new Error(`the plane has no user ${name}`);
      return clientFor(user);
    },
    async liveProcesses(clusterId) {
      const records = await plane.processes!.registry.list();
      return records
        .filter((record) => clusterId === undefined || record.clusterId === clusterId)
        .flatMap((record) => processesOf({ id: record.id, pgid: record.pgid, workDir: record.workDir }));
    },
    async stop() {
      await plane.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
