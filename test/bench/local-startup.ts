/**
 * `bilbo local` start-up as a user sees it: from spawning the command to
 * the line that prints the endpoint, then Ctrl-C and the time to stop.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { now, round1, type Summary, summarize } from './timing.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface LocalStartupReport {
  to_endpoint_ms: Summary;
  stop_ms: Summary;
}

export async function measureLocalStartup(runs: number): Promise<LocalStartupReport> {
  const starts: number[] = [];
  const stops: number[] = [];
  for (let run = 0; run < runs; run++) {
    const home = await mkdtemp(join(tmpdir(), 'bilbo-bench-local-'));
    try {
      const { start, stop } = await timeOne(home);
      starts.push(start);
      stops.push(stop);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }
  return { to_endpoint_ms: summarize(starts), stop_ms: summarize(stops) };
}

function timeOne(home: string): Promise<{ start: number; stop: number }> {
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn(process.execPath, [join(REPO_ROOT, 'cli', 'bin', 'bilbo.mjs'), 'local'], {
      cwd: REPO_ROOT,
      env: { ...process.env, BILBO_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let start: number | undefined;
    let stopAsked: number | undefined;
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bilbo local did not print its endpoint within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (start === undefined && /^export BILBO_ENDPOINT=/m.test(stdout)) {
        start = round1(now() - started);
        clearTimeout(killer);
        stopAsked = now();
        setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS).unref();
        child.kill('SIGINT');
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      if (start === undefined || stopAsked === undefined) {
        reject(new Error(`bilbo local exited (${signal ?? code}) before printing its endpoint: ${stderr}`));
      } else if (code !== 0) {
        reject(new Error(`bilbo local exited with ${signal ?? code} on Ctrl-C: ${stderr}`));
      } else {
        resolve({ start, stop: round1(now() - stopAsked) });
      }
    });
  });
}
