/**
 * The synthesized pause and resume workflows with the EC2 provider (and the
 * real retrying decorator) in front of a stateful EC2 mock: StopInstances
 * and StartInstances for every instance of the cluster, and, after the
 * resume, every instance's new public address and the URLs made from them
 * recorded (EC2 gives a started instance a new public IP).
 */
import {
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsAdapters } from '../../lambdas/adapters/aws-adapters.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import {
  EC2_TEST_CONFIG,
  type Ec2Mock,
  MOCK_AMI,
  MOCK_KEY_PAIR,
  MOCK_REGION,
  mockEc2,
} from '../support/ec2-mock.ts';
import { fakeDaskProbe } from '../support/fake-dask-probe.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const profile = {
  instance: { ami: MOCK_AMI, ec2type: 'm5.large', keyname: MOCK_KEY_PAIR, vol_size: 50 },
  dask: { worker: { count: 3 } },
};

let ec2: Ec2Mock;
let harness: TestControlPlane;

beforeAll(async () => {
  ec2 = mockEc2({ bootDescribes: 2, unseenDescribes: 1 });
  const ssm = new SSMClient({ region: MOCK_REGION });
  const ssmMock = mockClient(ssm);
  ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [] });
  ssmMock.on(PutParameterCommand).resolves({ Version: 1 });
  ssmMock
    .on(DescribeInstanceInformationCommand)
    .callsFake((input: DescribeInstanceInformationCommandInput) => ({
      InstanceInformationList: (input.Filters?.[0]?.Values ?? []).map((InstanceId) => ({
        InstanceId,
        PingStatus: 'Online',
        ResourceType: 'EC2Instance',
      })),
    }));
  const adapters = awsAdapters({ region: MOCK_REGION, ...EC2_TEST_CONFIG }, { ec2: ec2.client, ssm });
  harness = await startTestControlPlane({
    providerAdapters: { ...adapters, probeNetwork: 'private', machinesOutliveThePlane: true },
    // Every dashboard answers, with every worker joined.
    probe: fakeDaskProbe(() => true, 3),
    probeSettings: { intervalMs: 10, budgetMs: 200 },
    runner: { waitOverrideMs: 10, retryOverrideMs: 0 },
  });
});

afterAll(async () => {
  await harness?.stop();
  ec2?.restore();
});

async function settle(name: string): Promise<Cluster> {
  await harness.plane.runner.waitForIdle();
  return harness.api.getCluster(name);
}

const ids = (cluster: Cluster) => (cluster.instances ?? []).map((instance) => instance.id).sort();
const asked = (call: 'StopInstances' | 'StartInstances') =>
  ec2.inputsOf(call).flatMap((input) => input.InstanceIds ?? []);

describe('pausing and resuming a cluster on EC2', () => {
  let ready: Cluster;

  it('pauses: StopInstances for every instance, PAUSED once EC2 says each is stopped', async () => {
    await harness.api.createCluster({ name: 'nightly', profile });
    ready = await settle('nightly');
    expect(ready.state).toBe('READY');

    await harness.api.pauseCluster('nightly');
    const paused = await settle('nightly');

    expect(paused.state).toBe('PAUSED');
    expect([...new Set(asked('StopInstances'))].sort()).toEqual(ids(ready));
    for (const id of ids(ready)) expect(ec2.state.instance(id).State?.Name).toBe('stopped');
    const events = await harness.api.events('nightly');
    expect(events.at(-1)?.message).toContain('their volumes still cost (4 × 50 GiB)');
  });

  it('resumes: StartInstances for every instance, and every instance’s new public address and the URLs recorded', async () => {
    await harness.api.resumeCluster('nightly');
    const resumed = await settle('nightly');

    expect(resumed.state).toBe('READY');
    expect([...new Set(asked('StartInstances'))].sort()).toEqual(ids(ready));
    const before = new Map(ready.instances!.map((instance) => [instance.id, instance]));
    for (const instance of resumed.instances ?? []) {
      const now = ec2.state.instance(instance.id);
      expect(now.State?.Name).toBe('running');
      // Each instance, not only the first worker: the address EC2 gives it now.
      expect(instance.publicIp).toBe(now.PublicIpAddress);
      expect(instance.publicIp).not.toBe(before.get(instance.id)?.publicIp);
      expect(instance.privateIp).toBe(before.get(instance.id)?.privateIp);
      expect(instance.state).toBe('running');
    }
    const scheduler = resumed.instances!.find((instance) => instance.role === 'scheduler')!;
    expect(resumed.dashboardUrl).toBe(`http://${scheduler.publicIp}:8787`);
    expect(resumed.dashboardUrl).not.toBe(ready.dashboardUrl);
    // Inside the network nothing moved: the workers still find the scheduler.
    expect(resumed.schedulerAddress).toBe(ready.schedulerAddress);
  });
});
