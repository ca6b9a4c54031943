import { execFile } from 'node:child_process';
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
import type { Sweep, SweepReport } from '../../schemas/types.generated.ts';
import { processesOf, waitFor } from './dask-processes.ts';

export interface TestControlPlane {
  plane: LocalControlPlane;
  home: string;
  api: BilboApi;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A signed client for one of the `users` the plane was started with. */
  apiAs(user: string): BilboApi;
  /** Runs the `bilbo` CLI, as a separate process, against this plane: its exit code and output. */
  bilbo(...args: string[]): Promise<CliRun>;
  /** `bilbo ...args` (a command given `--json`) that must succeed: its output, parsed. */
  bilboJson<T>(...args: string[]): Promise<T>;
  /** Live processes of every instance the provider ever started in this plane. */
  liveProcesses(clusterId?: string): Promise<number[]>;
  stop(): Promise<void>;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const BILBO = join(import.meta.dirname, '..', '..', 'cli', 'bin', 'bilbo.mjs');

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
  const bilbo = (...args: string[]): Promise<CliRun> =>
    new Promise((resolve) => {
      const env = {
        ...process.env,
        BILBO_HOME: home,
        BILBO_ENDPOINT: plane.endpoint,
        BILBO_REGION: plane.region,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_SESSION_TOKEN: '',
        NO_COLOR: '1',
      };
      execFile(
        process.execPath,
        [BILBO, ...args],
        { env, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
      );
    });
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
    bilbo,
    async bilboJson<T>(...args: string[]): Promise<T> {
      const run = await bilbo(...args);
      if (run.code !== 0) throw new Error(`bilbo ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
      return JSON.parse(run.stdout) as T;
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

/** `bilbo reap` through the API: starts one sweep, and answers its report once it ended (a failed one throws). */
export async function reapThrough(api: BilboApi, options: { dryRun?: boolean } = {}): Promise<SweepReport> {
  const started = await api.reap(options);
  const ended = await waitFor(`sweep ${started.id} to end`, async (): Promise<Sweep | undefined> => {
    const sweep = await api.getSweep(started.id);
    return sweep.status === 'RUNNING' ? undefined : sweep;
  });
  if (!ended.report) throw new Error(`sweep ${ended.id} ended ${ended.status}: ${ended.error ?? 'no error'}`);
  return ended.report;
}
