/**
 * `npm run bench`: how long `bilbo local` takes to create a cluster, how
 * much of that is Dask itself, and how fast the CLI starts. Prints one JSON
 * object on stdout; progress goes to stderr.
 *
 *   npm run bench -- [--runs N] [--probe-interval-ms N] [--wait-ms N] [--reaper-clusters N] [--parts create,cli,ec2,handlers,local,reaper]
 *
 * Parts: `create` (create→READY and the CLI's start-up), `ec2` (the
 * workflows against a stateful EC2 mock), `handlers` (each Lambda's bundle
 * size and import time), `local` (`bilbo local` start-up to its endpoint),
 * `reaper` (one sweep over many live clusters in DynamoDB Local).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { createApiClient } from '../../cli/api/client.ts';
import { type Credentials, createSignedHttp } from '../../cli/api/http.ts';
import { buildCreateRequest } from '../../cli/cluster-request.ts';
import {
  type LocalControlPlane,
  type LocalControlPlaneOptions,
  startLocalControlPlane,
} from '../../cli/local/control-plane.ts';
import { planeEnvironment } from '../../cli/local/plane-environment.ts';
import { pythonFor } from '../../lambdas/adapters/local/python-runtime.ts';
import { daskKind } from '../../lambdas/domain/kinds/dask/index.ts';
import { benchContext, loadAverage } from './context.ts';
import { benchmarkRun, type RunResult } from './create-run.ts';
import { benchEc2 } from './ec2.ts';
import { measureHandlers } from './handlers.ts';
import { measureLocalStartup } from './local-startup.ts';
import { leftoverProcesses, markThisRun, type ProcessInfo, snapshotProcesses } from './processes.ts';
import { benchReaper } from './reaper.ts';
import { buildReport } from './report.ts';
import { measureCliStartup, measureStartup } from './startup.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const PROFILE = 'examples/bench.json';
const STARTUP_RUNS = 5;
const IMPORT_RUNS = 5;
const LOCAL_STARTUP_RUNS = 3;
const CLI_RUNS = 15;
const PARTS = ['create', 'cli', 'ec2', 'handlers', 'local', 'reaper'] as const;
type Part = (typeof PARTS)[number];

interface BenchOptions {
  runs: number;
  parts: ReadonlySet<Part>;
  /** Live clusters the reaper part sweeps. */
  reaperClusters: number;
  probeIntervalMs?: number;
  waitMs?: number;
}

const startedAt = Date.now();
const log = (line: string) =>
  process.stderr.write(`bench +${((Date.now() - startedAt) / 1000).toFixed(1)}s: ${line}\n`);

function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '3' },
      'probe-interval-ms': { type: 'string' },
      'wait-ms': { type: 'string' },
      parts: { type: 'string', default: PARTS.join(',') },
      'reaper-clusters': { type: 'string', default: '10000' },
    },
    strict: true,
  });
  const count = (flag: string, text: string | undefined, min: number): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${flag} must be an integer >= ${min}`);
    return value;
  };
  const probeIntervalMs = count('probe-interval-ms', values['probe-interval-ms'], 1);
  const waitMs = count('wait-ms', values['wait-ms'], 0);
  const parts = (values.parts ?? '').split(',').map((part) => part.trim());
  const unknown = parts.filter((part) => !(PARTS as readonly string[]).includes(part));
  if (unknown.length > 0) throw new Error(`--parts: unknown ${unknown.join(', ')}; use ${PARTS.join(', ')}`);
  return {
    runs: count('runs', values.runs, 1) ?? 3,
    parts: new Set(parts as Part[]),
    reaperClusters: count('reaper-clusters', values['reaper-clusters'], 1) ?? 10_000,
    ...(probeIntervalMs === undefined ? {} : { probeIntervalMs }),
    ...(waitMs === undefined ? {} : { waitMs }),
  };
}

async function main(): Promise<void> {
  const options = parseBenchArgs(process.argv.slice(2));
  process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const marker = markThisRun();
  const before = snapshotProcesses(marker);
  const home = await mkdtemp(join(tmpdir(), 'bilbo-bench-home-'));
  process.env.BILBO_HOME = home;
  try {
    const report = await bench(options, home, { marker, before });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } catch (error) {
    const { ours } = await leftoverProcesses(before, marker);
    log(`leftover processes after the failure: ${ours.length}`);
    throw error;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** This run's process marker, and the processes that were alive before it. */
interface ProcessBaseline {
  marker: string;
  before: ReadonlyMap<number, ProcessInfo>;
}

async function bench(
  options: BenchOptions,
  home: string,
  { marker, before }: ProcessBaseline,
): Promise<Record<string, unknown>> {
  const context = await benchContext(await pythonFor(process.env, daskKind.localRuntime));
  const report: Record<string, unknown> = {};
  if (options.parts.has('create')) {
    log(`timing \`bilbo version\` start-up (${STARTUP_RUNS} runs)`);
    const startup = await measureStartup(STARTUP_RUNS);
    const planeOptions = controlPlaneOptions(options);
    const runs = await withControlPlane(home, planeOptions, (plane) =>
      runAll(plane, home, options.runs, marker),
    );
    Object.assign(
      report,
      buildReport({
        profile: PROFILE,
        clusterShape: '1 scheduler + 4 workers (nproc 1, nthread 1), local processes',
        controlPlane: {
          probe_settings: planeOptions.probeSettings ?? 'bilbo local defaults',
          wait_override_ms: planeOptions.runner?.waitOverrideMs ?? 'bilbo local default',
        },
        runs,
        startup,
        context,
        leftovers: await leftoverProcesses(before, marker),
      }),
    );
  }
  if (options.parts.has('cli')) {
    log(`timing the compiled CLI's start-up: version, and ls against a local plane (${CLI_RUNS} runs each)`);
    report.cli_startup_ms = await withControlPlane(home, {}, (plane) =>
      measureCliStartup(CLI_RUNS, planeEnvironment(plane)),
    );
  }
  if (options.parts.has('local')) {
    log(`timing \`bilbo local\` start-up to its endpoint (${LOCAL_STARTUP_RUNS} runs)`);
    report.local_startup_ms = await measureLocalStartup(LOCAL_STARTUP_RUNS);
  }
  if (options.parts.has('handlers')) {
    log(`bundling every Lambda and timing its import (${IMPORT_RUNS} runs each)`);
    report.handlers = await measureHandlers(IMPORT_RUNS, log);
  }
  if (options.parts.has('ec2')) report.ec2 = await benchEc2(log);
  if (options.parts.has('reaper')) {
    report.reaper = await benchReaper({ clusters: options.reaperClusters, probeLatencyMs: 50 }, log);
  }
  report.context = { ...context, load_average_1m_at_end: loadAverage() };
  report.leftover_processes = (await leftoverProcesses(before, marker)).ours.length;
  return report;
}

function controlPlaneOptions(
  options: BenchOptions,
): Pick<LocalControlPlaneOptions, 'probeSettings' | 'runner'> {
  return {
    ...(options.probeIntervalMs === undefined
      ? {}
      : { probeSettings: { intervalMs: options.probeIntervalMs } }),
    ...(options.waitMs === undefined ? {} : { runner: { waitOverrideMs: options.waitMs } }),
  };
}

async function withControlPlane<T>(
  home: string,
  options: Pick<LocalControlPlaneOptions, 'probeSettings' | 'runner'>,
  work: (plane: LocalControlPlane) => Promise<T>,
): Promise<T> {
  const plane = await startLocalControlPlane({ home, log: (line) => log(`[local] ${line}`), ...options });
  try {
    return await work(plane);
  } finally {
    log('stopping the control plane');
    await plane.stop();
  }
}

async function runAll(
  plane: LocalControlPlane,
  home: string,
  count: number,
  marker: string,
): Promise<RunResult[]> {
  const credentials = credentialsFor(plane);
  const api = createApiClient(
    createSignedHttp({ endpoint: plane.endpoint, region: plane.region, credentials }),
  );
  const results: RunResult[] = [];
  for (let run = 1; run <= count; run++) {
    const name = `bench-${run}-${randomBytes(3).toString('hex')}`;
    const { request } = await buildCreateRequest(
      { profile: join(REPO_ROOT, PROFILE), cluster: name, params: [] },
      home,
    );
    log(`run ${run}/${count}: creating ${name}`);
    results.push(await benchmarkRun({ plane, api, marker, log }, request));
  }
  return results;
}

/** The key pair the local plane made for this run, or else the caller's own (which the plane trusts). */
function credentialsFor(plane: LocalControlPlane): () => Promise<Credentials> {
  const generated = plane.credentials;
  if (generated) return async () => generated;
  const chain = fromNodeProviderChain();
  return async () => {
    const { accessKeyId, secretAccessKey, sessionToken } = await chain();
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  };
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
