/**
 * A stand-in for a control plane that gets killed: starts what argv names
 * (`dynamodb <leaseFile>`, `scheduler <stateDir>`, or `paused-scheduler
 * <stateDir>`: one launched, then stopped as a pause does), prints the leader pid
 * of what it started as one JSON line, and waits to be killed.
 */
import { startDynamoDbLocal } from '../../cli/local/dynamodb-local.ts';
import { LocalProcessProvider } from '../../lambdas/adapters/local/process-provider.ts';
import { DASK_PROGRAMS, launchRequest } from './dask-launch.ts';

const [what, path] = process.argv.slice(2);
if (!path) {
  throw new Error(
    'usage: tied-owner.ts dynamodb LEASE_FILE | scheduler STATE_DIR | paused-scheduler STATE_DIR',
  );
}

if (what === 'dynamodb') {
  const dynamo = await startDynamoDbLocal({ leaseFile: path });
  console.log(JSON.stringify({ pid: dynamo.pid }));
} else {
  const provider = new LocalProcessProvider({ stateDir: path, programs: DASK_PROGRAMS });
  const [machine] = await provider.launch(launchRequest());
  if (what === 'paused-scheduler') await provider.stop([machine?.id ?? '']);
  const record = await provider.registry.load(machine?.id ?? '');
  console.log(JSON.stringify({ pid: record?.pid, ports: machine?.ports }));
}
setInterval(() => {}, 60_000);
