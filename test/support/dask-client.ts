import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DASK_PYTHON } from './dask-launch.ts';

const run = promisify(execFile);

/**
 * A real distributed.Client computing on the cluster at `schedulerAddress`:
 * prints the sum of 1000 squares and how many workers the scheduler has.
 */
export function compute(schedulerAddress: string): Promise<{ stdout: string }> {
  const script = [
    'from distributed import Client',
    `client = Client(${JSON.stringify(schedulerAddress)}, timeout=20)`,
    'squares = client.map(lambda x: x * x, range(1000))',
    'print(client.submit(sum, squares).result(), len(client.scheduler_info()["workers"]))',
    'client.close()',
  ].join('\n');
  return run(DASK_PYTHON, ['-c', script]);
}
