/** Start-up time of the CLI: spawn to exit, next to a bare `node -e 0`. */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { now, type Summary, summarize } from './timing.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface StartupReport {
  bilbo_version: Summary;
  node_baseline: Summary;
  /** Runs of each command made first and not counted (cold file cache). */
  warmup_runs: number;
}

export async function measureStartup(runs: number, warmupRuns = 1): Promise<StartupReport> {
  const bilbo = [join(REPO_ROOT, 'cli', 'bin', 'bilbo.mjs'), 'version'];
  const baseline = ['-e', '0'];
  return {
    bilbo_version: summarize(await timeRuns(bilbo, runs, warmupRuns)),
    node_baseline: summarize(await timeRuns(baseline, runs, warmupRuns)),
    warmup_runs: warmupRuns,
  };
}

export interface CliStartupReport {
  /** The compiled CLI, as `npm install -g` of the packed tarball runs it. */
  compiled_version: Summary;
  /** The sources through tsx (`npm run bilbo`, cli/bin/bilbo.mjs). */
  tsx_version: Summary;
  /** `bilbo ls` of the compiled CLI against a running local control plane (one signed request). */
  compiled_ls: Summary;
  node_baseline: Summary;
  warmup_runs: number;
}

/** Builds dist/ (`npm run build`), then times the compiled and the tsx CLI; `ls` with `env` pointing at a plane. */
export async function measureCliStartup(
  runs: number,
  planeEnv: Record<string, string>,
  warmupRuns = 1,
): Promise<CliStartupReport> {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
  const compiled = join(REPO_ROOT, 'dist', 'cli', 'bin', 'bilbo.js');
  const env = { ...process.env, ...planeEnv };
  return {
    compiled_version: summarize(await timeRuns([compiled, 'version'], runs, warmupRuns)),
    tsx_version: summarize(
      await timeRuns([join(REPO_ROOT, 'cli', 'bin', 'bilbo.mjs'), 'version'], runs, warmupRuns),
    ),
    compiled_ls: summarize(await timeRuns([compiled, 'ls', '--json'], runs, warmupRuns, env)),
    node_baseline: summarize(await timeRuns(['-e', '0'], runs, warmupRuns)),
    warmup_runs: warmupRuns,
  };
}

async function timeRuns(
  args: readonly string[],
  runs: number,
  warmupRuns: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < warmupRuns + runs; i++) {
    const elapsed = await timeOne(args, env);
    if (i >= warmupRuns) times.push(elapsed);
  }
  return times;
}

/** Wall time from spawn to exit; a non-zero exit fails the benchmark. */
function timeOne(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const elapsed = now() - started;
      if (code === 0) resolve(elapsed);
      else reject(new Error(`node ${args.join(' ')} exited with ${signal ?? code}: ${stderr.trim()}`));
    });
  });
}
