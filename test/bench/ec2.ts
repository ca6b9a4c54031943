/**
 * The EC2 part of the benchmark, against the stateful EC2 mock (there is no
 * AWS account here): EC2 API calls per create as the worker count grows,
 * and Step Functions state transitions per create when the machines take a
 * simulated 60 s to boot. The workflow, handlers, retrying provider,
 * user-data renderer and preflight are the real ones.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createApiClient } from '../../cli/api/client.ts';
import { createSignedHttp } from '../../cli/api/http.ts';
import { type LocalControlPlane, startLocalControlPlane } from '../../cli/local/control-plane.ts';
import { awsAdapters } from '../../lambdas/adapters/aws-adapters.ts';
import type { ReadinessProbe } from '../../lambdas/domain/ports.ts';
import {
  EC2_TEST_CONFIG,
  type Ec2CommandName,
  type Ec2Mock,
  MOCK_AMI,
  MOCK_REGION,
  mockEc2,
} from '../support/ec2-mock.ts';
import { fakeDaskProbe, serviceOf } from '../support/fake-dask-probe.ts';

const WORKER_COUNTS = [1, 10, 100, 1000];
const SIMULATED_BOOT_MS = 60_000;
const COMMANDS: Ec2CommandName[] = [
  'RunInstances',
  'DescribeInstances',
  'TerminateInstances',
  'DescribeImages',
  'DescribeInstanceTypes',
  'DescribeKeyPairs',
  'DescribeSecurityGroups',
];

/** Time that passes only when the steps sleep: a 55 s probe budget costs nothing real. */
function simulatedTime() {
  let offset = 0;
  return {
    clock: { now: () => new Date(Date.now() + offset) },
    sleep: async (ms: number) => {
      offset += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** Every service answers, with all workers, SIMULATED_BOOT_MS after it was first looked at. */
function slowBootingDashboards(now: () => Date): ReadinessProbe {
  const firstLook = new Map<string, number>();
  const workers = Math.max(...WORKER_COUNTS) * 4;
  return fakeDaskProbe((url) => {
    const service = serviceOf(url);
    const first = firstLook.get(service) ?? now().getTime();
    firstLook.set(service, first);
    return now().getTime() - first >= SIMULATED_BOOT_MS;
  }, workers);
}

function callCounts(ec2: Ec2Mock): Record<string, number> {
  return Object.fromEntries(COMMANDS.map((command) => [command, ec2.callsOf(command)]));
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

export async function benchEc2(log: (line: string) => void): Promise<Record<string, unknown>> {
  const home = await mkdtemp(join(tmpdir(), 'bilbo-bench-ec2-'));
  const ec2 = mockEc2({ bootDescribes: 3 });
  const ssm = new SSMClient({ region: MOCK_REGION });
  mockClient(ssm).on(GetParametersByPathCommand).resolves({ Parameters: [] });
  const time = simulatedTime();
  const plane = await startLocalControlPlane({
    home,
    log: (line) => log(`[ec2 mock] ${line}`),
    providerAdapters: {
      ...awsAdapters({ region: MOCK_REGION, ...EC2_TEST_CONFIG }, { ec2: ec2.client, ssm }),
      probeNetwork: 'private',
      machinesOutliveThePlane: true,
    },
    probe: slowBootingDashboards(time.clock.now),
    clock: time.clock,
    sleep: time.sleep,
    probeSettings: { budgetMs: 55_000, intervalMs: 1_000 },
    runner: { waitOverrideMs: 5, retryOverrideMs: 0 },
  });
  try {
    const perWorkers: Record<string, unknown> = {};
    for (const workers of WORKER_COUNTS) {
      log(`EC2 calls for a create with ${workers} workers (simulated ${SIMULATED_BOOT_MS / 1000} s boot)`);
      perWorkers[String(workers)] = await createAndDestroy(plane, ec2, workers);
    }
    return {
      note: 'against the stateful EC2 mock; instances run after 3 describes; dashboards answer 60 simulated seconds after their first look',
      per_worker_count: perWorkers,
    };
  } finally {
    await plane.stop();
    ec2.restore();
    await rm(home, { recursive: true, force: true });
  }
}

async function createAndDestroy(plane: LocalControlPlane, ec2: Ec2Mock, workers: number) {
  const credentials = plane.credentials;
  if (!credentials) throw new Error('the bench needs the key pair the local plane makes');
  const api = createApiClient(
    createSignedHttp({
      endpoint: plane.endpoint,
      region: plane.region,
      credentials: async () => credentials,
    }),
  );
  const name = `ec2-bench-${workers}`;
  const profile = { instance: { ami: MOCK_AMI, ec2type: 'm5.large' }, dask: { worker: { count: workers } } };

  const before = callCounts(ec2);
  const dryRunsBefore = ec2.inputsOf('RunInstances').filter((input) => input.DryRun).length;
  await api.createCluster({ name, profile });
  await plane.runner.waitForIdle();
  const cluster = await api.getCluster(name);
  const created = delta(callCounts(ec2), before);
  const dryRuns = ec2.inputsOf('RunInstances').filter((input) => input.DryRun).length - dryRunsBefore;

  const execution = plane.runner.executions().find((run) => run.name === `${cluster.id}-create`);
  const history = execution ? plane.runner.history(execution.executionArn) : [];
  const machineChecks = history.filter(
    (event) => event.type === 'StateEntered' && event.state.name === 'CheckRunning',
  ).length;

  const beforeDestroy = callCounts(ec2);
  await api.destroyCluster(name);
  await plane.runner.waitForIdle();
  return {
    state: cluster.state,
    instances: (cluster.instances ?? []).length,
    create_calls: {
      ...created,
      RunInstances_launches: (created.RunInstances ?? 0) - dryRuns,
      RunInstances_dry_runs: dryRuns,
    },
    machine_checks: machineChecks,
    describe_calls_per_machine_check: machineChecks
      ? round((created.DescribeInstances ?? 0) / machineChecks)
      : null,
    state_transitions_per_create: execution ? plane.runner.stateTransitions(execution.executionArn) : null,
    destroy_calls: delta(callCounts(ec2), beforeDestroy),
    final_state: (await api.getCluster(name)).state,
    final_failure: (await api.getCluster(name)).failure,
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
