/** Start-up time of the CLI: spawn to exit, next to a bare `node -e 0`. */
import { spawn } from 'node:child_process';
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

async function timeRuns(args: readonly string[], runs: number, warmupRuns: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < warmupRuns + runs; i++) {
    const elapsed = await timeOne(args);
    if (i >= warmupRuns) times.push(elapsed);
  }
  return times;
}

/** Wall time from spawn to exit; a non-zero exit fails the benchmark. */
function timeOne(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
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
