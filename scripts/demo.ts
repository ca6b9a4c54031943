/**
 * `npm run demo`: bilbo's main job on the local embedded default, start to
 * finish. Starts the local control plane, creates a Dask cluster from
 * examples/local.json with the real CLI (progress on the terminal), runs a
 * computation on it with a real distributed.Client, destroys it and stops,
 * leaving no process behind.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane } from '../cli/local/control-plane.ts';
import { planeEnvironment } from '../cli/local/plane-environment.ts';
import { pythonFor } from '../lambdas/adapters/local/python-runtime.ts';
import { daskKind } from '../lambdas/domain/kinds/dask/index.ts';

const repo = join(import.meta.dirname, '..');
const cluster = 'demo';

function say(line: string): void {
  process.stderr.write(`\n\u001b[1m» ${line}\u001b[22m\n`);
}

function runChild(command: string, args: string[], env: NodeJS.ProcessEnv, capture = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}`)),
    );
  });
}

const computation = `
import sys, time
from distributed import Client
client = Client(sys.argv[1], timeout=20)
started = time.perf_counter()
squares = client.map(lambda x: x * x, range(1_000))
total = client.submit(sum, squares).result()
workers = len(client.scheduler_info()["workers"])
print(f"sum of squares below 1,000 = {total:,} — {len(squares):,} tasks on {workers} workers in {time.perf_counter() - started:.2f} s")
client.close()
`;

const home = mkdtempSync(join(tmpdir(), 'bilbo-demo-'));
say('starting the local control plane (DynamoDB Local, the synthesized workflows, a SigV4-checking API)');
const plane = await startLocalControlPlane({ home, log: (line) => process.stderr.write(`  ${line}\n`) });
const stop = async () => {
  await plane.stop();
  rmSync(home, { recursive: true, force: true });
};
process.once('SIGINT', () => {
  void stop().then(() => process.exit(130));
});

try {
  const env = {
    ...process.env,
    BILBO_HOME: home,
    ...planeEnvironment(plane),
    // A made key pair has no session token; one left in the environment would be signed with it.
    ...(plane.credentials ? { AWS_SESSION_TOKEN: '' } : {}),
  };
  const bilbo = (...args: string[]) =>
    runChild(process.execPath, [join(repo, 'cli/bin/bilbo.mjs'), ...args], env);

  say(`bilbo create examples/local.json -c ${cluster}`);
  await bilbo('create', join(repo, 'examples/local.json'), '-c', cluster);

  const described = await runChild(
    process.execPath,
    [join(repo, 'cli/bin/bilbo.mjs'), 'desc', cluster, '--json'],
    env,
    true,
  );
  const { schedulerAddress } = JSON.parse(described) as { schedulerAddress: string };
  say(`computing on ${schedulerAddress} with a dask.distributed Client`);
  const python = await pythonFor(process.env, daskKind.localRuntime);
  await runChild(python, ['-c', computation, schedulerAddress], env);

  say(`bilbo destroy ${cluster} -f`);
  await bilbo('destroy', cluster, '-f');
} finally {
  say('stopping the control plane');
  await stop();
  process.stderr.write('  done: no process left behind\n');
}
