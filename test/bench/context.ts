/** What the numbers were measured on. */
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { promisify } from 'node:util';

export interface BenchContext {
  date: string;
  node: string;
  platform: string;
  cpu_count: number;
  cpu_model: string;
  memory_gib: number;
  /** Other work on the machine skews every number: the 1-minute load when the benchmark started. */
  load_average_1m_at_start: number;
  distributed: string;
  python: string;
}

export async function benchContext(python: string): Promise<BenchContext> {
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${release()}`,
    cpu_count: availableParallelism(),
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    load_average_1m_at_start: loadAverage(),
    distributed: await distributedVersion(python),
    python,
  };
}

async function distributedVersion(python: string): Promise<string> {
  const { stdout } = await promisify(execFile)(python, [
    '-c',
    'import distributed; print(distributed.__version__)',
  ]);
  return stdout.trim();
}

export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}
