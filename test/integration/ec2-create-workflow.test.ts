/**
 * The synthesized create and destroy workflows with the EC2 provider (and
 * the real retrying decorator, user-data renderer and preflight) in front of
 * a stateful EC2 mock: from a signed request to READY, and from each fault
 * EC2 can throw at a launch to a clean rollback — nothing left running,
 * the record FAILED with AWS's message.
 */
import {
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  GetCommandInvocationCommand,
  GetParameterCommand,
  type GetParameterCommandInput,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  type PutParameterCommandInput,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsAdapters } from '../../lambdas/adapters/aws-adapters.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import {
  EC2_TEST_CONFIG,
  type Ec2Mock,
  ec2Errors,
  launchedByBilbo,
  MOCK_AMI,
  MOCK_KEY_PAIR,
  MOCK_REGION,
  mockEc2,
} from '../support/ec2-mock.ts';
import { fakeDaskProbe } from '../support/fake-dask-probe.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';

const profile = {
  instance: {
    ami: MOCK_AMI,
    ec2type: 'm5.large',
    keyname: MOCK_KEY_PAIR,
    tags: [['team', 'data']] as [string, string][],
  },
  dask: { worker: { instance: { ec2type: 'm5.xlarge' }, count: 3 } },
};

/** Services that answer after a few looks each, as a booting machine does, with every worker joined. */
function bootingDashboards(looksToBoot: number) {
  const looks = new Map<string, number>();
  return fakeDaskProbe((url) => {
    const seen = (looks.get(url) ?? 0) + 1;
    looks.set(url, seen);
    return seen > looksToBoot;
  }, 100);
}

let ec2: Ec2Mock;
let ssmMock: AwsClientStub<SSMClient>;
/** The SecureStrings the mock keeps, by name. */
const parameters = new Map<string, string>();
/** Instances whose SSM agent never registers. */
const agentsMissing = new Set<string>();
/** Runs once just before the named state's task: arms a fault for exactly that step. */
const beforeState: Record<string, (() => void) | undefined> = {};
let harness: TestControlPlane;
const probe = bootingDashboards(3);

beforeAll(async () => {
  ec2 = mockEc2({ bootDescribes: 2, unseenDescribes: 1 });
  const ssm = new SSMClient({ region: MOCK_REGION });
  // Parameter Store keeps what the create puts, for the probe to read back; the cleanup lists
  // the cluster's secrets (this mock lists none) and deletes them.
  ssmMock = mockClient(ssm);
  ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [] });
  ssmMock.on(PutParameterCommand).callsFake((input: PutParameterCommandInput) => {
    parameters.set(input.Name!, input.Value!);
    return { Version: 1, Tier: 'Standard' };
  });
  ssmMock.on(GetParameterCommand).callsFake((input: GetParameterCommandInput) => {
    const value = parameters.get(input.Name!);
    if (value === undefined) {
      throw new ParameterNotFound({ message: 'not found', $metadata: { httpStatusCode: 400 } });
    }
    return { Parameter: { Name: input.Name, Type: 'SecureString', Value: value, Version: 1 } };
  });
  // Run Command: every command is taken and succeeds at once, with no output.
  ssmMock
    .on(SendCommandCommand)
    .callsFake(() => ({ Command: { CommandId: 'e2c7c0de-0000-4000-8000-000000000001' } }));
  ssmMock.on(GetCommandInvocationCommand).resolves({
    Status: 'Success',
    StatusDetails: 'Success',
    ResponseCode: 0,
    StandardOutputContent: '',
    StandardErrorContent: '',
  });
  // Each instance's agent registers with SSM, but those a test holds back.
  ssmMock
    .on(DescribeInstanceInformationCommand)
    .callsFake((input: DescribeInstanceInformationCommandInput) => ({
      InstanceInformationList: (input.Filters?.[0]?.Values ?? [])
        .filter((id) => !agentsMissing.has(id))
        .map((InstanceId) => ({ InstanceId, PingStatus: 'Online', ResourceType: 'EC2Instance' })),
    }));
  const adapters = awsAdapters({ region: MOCK_REGION, ...EC2_TEST_CONFIG }, { ec2: ec2.client, ssm });
  harness = await startTestControlPlane({
    providerAdapters: { ...adapters, probeNetwork: 'private', machinesOutliveThePlane: true },
    probe,
    probeSettings: { intervalMs: 10, budgetMs: 200 },
    runner: {
      waitOverrideMs: 10,
      retryOverrideMs: 0,
      interceptor: async (state, _payload, next) => {
        beforeState[state]?.();
        beforeState[state] = undefined;
        return next();
      },
    },
  });
});

afterAll(async () => {
  await harness?.stop();
  ec2?.restore();
});

async function createAndSettle(name: string): Promise<Cluster> {
  await harness.api.createCluster({ name, profile });
  await harness.plane.runner.waitForIdle();
  return harness.api.getCluster(name);
}

function userDataOf(input: { UserData?: string }): string {
  return Buffer.from(input.UserData ?? '', 'base64').toString('utf8');
}

describe('creating a cluster on EC2', () => {
  it('goes from the request to READY with one launch call per role, tagged at launch', async () => {
    const before = ec2.inputsOf('RunInstances').filter((input) => !input.DryRun).length;
    const cluster = await createAndSettle('on-ec2');

    expect(cluster.state).toBe('READY');
    const launches = ec2
      .inputsOf('RunInstances')
      .filter((input) => !input.DryRun)
      .slice(before);
    expect(launches.map((input) => [input.InstanceType, input.MinCount, input.MaxCount])).toEqual([
      ['m5.large', 1, 1],
      ['m5.xlarge', 3, 3],
    ]);
    const scheduler = cluster.instances?.find((instance) => instance.role === 'scheduler');
    expect(userDataOf(launches[1]!)).toContain(`tcp://${scheduler?.privateIp}:8786`);
    expect(launches[1]?.TagSpecifications?.map((spec) => spec.ResourceType)).toEqual(['instance', 'volume']);
    expect(cluster.instances).toHaveLength(4);
    expect(cluster.privateDashboardUrl).toBe(`http://${scheduler?.privateIp}:8787`);
    expect(cluster.dashboardUrl).toMatch(/^http:\/\/\d+\.\d+\.\d+\.\d+:8787$/);
    expect(cluster.dashboardUrl).not.toBe(cluster.privateDashboardUrl);
    expect(probe.asked.at(-2)).toBe(`${cluster.privateDashboardUrl}/health`);
  });

  it('names every instance with its role index, the scheduler at launch and each worker right after', async () => {
    const cluster = await createAndSettle('named');

    expect(cluster.state).toBe('READY');
    const names = ec2.state
      .alive(cluster.id)
      .map((instance) => [
        instance.InstanceId,
        instance.Tags?.filter((tag) => tag.Key === 'Name').map((tag) => tag.Value),
      ]);
    expect(names).toEqual(
      (cluster.instances ?? []).map((instance) => [
        instance.id,
        [`named-${instance.role}-${instance.index}`],
      ]),
    );
    expect(names.map(([, name]) => name?.[0])).toEqual([
      'named-scheduler-0',
      'named-worker-0',
      'named-worker-1',
      'named-worker-2',
    ]);
  });

  it('names the workers through a throttled CreateTags, retrying only the throttled calls', async () => {
    const before = ec2.callsOf('CreateTags');
    beforeState.LaunchMember = () =>
      ec2.fail({ command: 'CreateTags', times: 2, error: ec2Errors.throttled() });
    const cluster = await createAndSettle('named-throttled');

    expect(cluster.state).toBe('READY');
    const workers = ec2.state
      .alive(cluster.id)
      .filter((instance) => instance.Tags?.some((tag) => tag.Key === 'bilbo:role' && tag.Value === 'worker'));
    expect(workers.map((instance) => instance.Tags?.find((tag) => tag.Key === 'Name')?.Value).sort()).toEqual(
      ['named-throttled-worker-0', 'named-throttled-worker-1', 'named-throttled-worker-2'],
    );
    // Three workers (each possibly unseen once right after the launch) and two throttled calls.
    expect(ec2.callsOf('CreateTags') - before).toBeGreaterThanOrEqual(5);
  });

  it('becomes READY when EC2 keeps throttling the renames: the workers keep the role’s name, an event says so', async () => {
    const before = ec2.callsOf('CreateTags');
    // Each of the 3 workers' renames, tried 6 times (5 retries), all throttled.
    beforeState.LaunchMember = () =>
      ec2.fail({ command: 'CreateTags', times: 18, error: ec2Errors.throttled() });
    const cluster = await createAndSettle('unnamed');

    expect(cluster.state).toBe('READY');
    expect(cluster.instances).toHaveLength(4);
    const workerNames = ec2.state
      .alive(cluster.id)
      .filter((instance) => instance.Tags?.some((tag) => tag.Key === 'bilbo:role' && tag.Value === 'worker'))
      .map((instance) => instance.Tags?.find((tag) => tag.Key === 'Name')?.Value);
    expect(workerNames).toEqual(['unnamed-worker', 'unnamed-worker', 'unnamed-worker']);
    expect(ec2.callsOf('CreateTags') - before).toBe(18);
    const events = await harness.api.events('unnamed');
    expect(events.map((event) => event.message)).toContainEqual(
      expect.stringMatching(
        /^could not give every worker its own name \(named 0 of 3 machines, then stopped: EC2 CreateTags is busy.*\); the rest keep the name unnamed-worker$/,
      ),
    );
    // Nothing is left that the record does not know.
    await harness.api.destroyCluster('unnamed');
    await harness.plane.runner.waitForIdle();
    expect(ec2.state.alive(cluster.id)).toEqual([]);
  });

  it('launches a notebook whose token stays in SSM, and records its URL on its public address', async () => {
    const withNotebook = {
      ...profile,
      notebook: {
        workdir: 'work',
        git: {
          repository: 'https://example.com/r.git',
          user: 'u',
          email: 'u@example.com',
          password: 'pw-MARKER',
        },
      },
    };
    await harness.api.createCluster({ name: 'with-notebook', profile: withNotebook });
    await harness.plane.runner.waitForIdle();
    const cluster = await harness.api.getCluster('with-notebook');

    expect(cluster.state).toBe('READY');
    const notebook = ec2.state
      .alive(cluster.id)
      .find((instance) => instance.Tags?.some((t) => t.Key === 'bilbo:role' && t.Value === 'notebook'));
    expect(cluster.notebookUrl).toBe(`http://${notebook?.PublicIpAddress}:8888`);
    // The probe, inside the VPC, waits for Jupyter on the notebook's private address, with its token.
    expect(probe.asked.at(-1)).toBe(`http://${notebook?.PrivateIpAddress}:8888/api/status`);
    expect(ssmMock.commandCalls(GetParameterCommand).map((call) => call.args[0].input)).toContainEqual({
      Name: `/bilbo/clusters/${cluster.id}/jupyter-token`,
      WithDecryption: true,
    });
    const puts = ssmMock.commandCalls(PutParameterCommand).map((call) => call.args[0].input);
    expect(puts.map((input) => [input.Name, input.Type])).toEqual([
      [`/bilbo/clusters/${cluster.id}/jupyter-token`, 'SecureString'],
      [`/bilbo/clusters/${cluster.id}/git-password`, 'SecureString'],
    ]);
    const notebookLaunch = ec2
      .inputsOf('RunInstances')
      .find((input) => !input.DryRun && input.ClientToken === `${cluster.id}-notebook`);
    const script = userDataOf(notebookLaunch!);
    expect(script).toContain(`/bilbo/clusters/${cluster.id}/jupyter-token`);
    expect(script).not.toContain('pw-MARKER');
    expect(script).not.toContain(String(puts[0]?.Value));
    expect(script).not.toContain('example.com/r.git');
    // The clone is the create's setup command, sent to the notebook once it answers: the password by its name.
    const [clone, ...more] = ssmMock.commandCalls(SendCommandCommand).map((call) => call.args[0].input);
    expect(more).toEqual([]);
    expect(clone?.InstanceIds).toEqual([notebook?.InstanceId]);
    expect(JSON.stringify(clone)).toContain(`/bilbo/clusters/${cluster.id}/git-password`);
    expect(JSON.stringify(clone)).not.toContain('pw-MARKER');
    const events = await harness.api.events('with-notebook');
    expect(events.filter((event) => event.step === 'init-notebook').map((event) => event.message)).toEqual([
      'git clone https://example.com/r.git exited 0 on the notebook',
    ]);
    await harness.api.destroyCluster('with-notebook');
    await harness.plane.runner.waitForIdle();
  });

  it('reports and opens the private addresses with private_command, and the public ones without', async () => {
    await harness.api.createCluster({
      name: 'inside',
      profile: { ...profile, private_command: true, notebook: {} },
    });
    await harness.plane.runner.waitForIdle();
    const cluster = await harness.api.getCluster('inside');
    const address = (role: string) => {
      const instance = ec2.state
        .alive(cluster.id)
        .find((candidate) => candidate.Tags?.some((t) => t.Key === 'bilbo:role' && t.Value === role));
      return { privateIp: instance?.PrivateIpAddress, publicIp: instance?.PublicIpAddress };
    };

    expect(cluster.state).toBe('READY');
    expect(address('scheduler').publicIp).toBeDefined();
    expect(cluster.dashboardUrl).toBe(`http://${address('scheduler').privateIp}:8787`);
    expect(cluster.notebookUrl).toBe(`http://${address('notebook').privateIp}:8888`);
    expect((await harness.api.notebookLink('inside')).url).toMatch(
      new RegExp(`^http://${address('notebook').privateIp}:8888/\\?token=`),
    );
    await harness.api.destroyCluster('inside');
    await harness.plane.runner.waitForIdle();
  });

  it('launches one notebook instance and no Dask for a profile with a notebook section alone', async () => {
    const before = ec2.inputsOf('RunInstances').filter((input) => !input.DryRun).length;
    await harness.api.createCluster({
      name: 'notebook-only',
      profile: { instance: profile.instance, notebook: {} },
    });
    await harness.plane.runner.waitForIdle();
    const cluster = await harness.api.getCluster('notebook-only');

    expect(cluster.state).toBe('READY');
    const launches = ec2
      .inputsOf('RunInstances')
      .filter((input) => !input.DryRun)
      .slice(before);
    expect(launches.map((input) => [input.ClientToken, input.MinCount, input.MaxCount])).toEqual([
      [`${cluster.id}-notebook`, 1, 1],
    ]);
    expect(cluster.instances?.map((instance) => instance.role)).toEqual(['notebook']);
    expect(cluster).not.toHaveProperty('dashboardUrl');
    expect(cluster.notebookUrl).toMatch(/^http:\/\/[\d.]+:8888$/);
    // Its Jupyter server is given no scheduler to connect to.
    expect(userDataOf(launches[0]!)).not.toContain('DASK_SCHEDULER_ADDRESS');
    await harness.api.destroyCluster('notebook-only');
    await harness.plane.runner.waitForIdle();
    expect(ec2.state.alive(cluster.id)).toEqual([]);
  });

  it('refuses a profile with neither dask nor notebook: "Nothing to do.", nothing recorded or launched', async () => {
    const launchesBefore = ec2.state.launches;

    await expect(
      harness.api.createCluster({ name: 'nothing', profile: { instance: profile.instance } }),
    ).rejects.toThrow(/^Nothing to do\./);
    expect(ec2.state.launches).toBe(launchesBefore);
    await expect(harness.api.getCluster('nothing')).rejects.toThrow();
  });

  it('refuses a security group the deployment does not allow: 400 naming the field, nothing launched', async () => {
    const launchesBefore = ec2.state.launches;
    const denied = { ...profile, instance: { ...profile.instance, security_group: 'sg-0ffffffffffffffff' } };

    await expect(harness.api.createCluster({ name: 'foreign-group', profile: denied })).rejects.toMatchObject(
      {
        status: 400,
        field: 'profile.instance.security_group',
        message: expect.stringContaining('bilbo:allowedSecurityGroups'),
      },
    );
    expect(ec2.state.launches).toBe(launchesBefore);
    await expect(harness.api.getCluster('foreign-group')).rejects.toMatchObject({ status: 404 });
  });

  it('retries a throttled launch with the same client token, launching nothing twice', async () => {
    beforeState.LaunchMember = () =>
      ec2.fail({ command: 'RunInstances', error: ec2Errors.throttled(), afterEffect: true });
    const cluster = await createAndSettle('throttled');

    expect(cluster.state).toBe('READY');
    const workerCalls = ec2
      .inputsOf('RunInstances')
      .filter((input) => input.ClientToken === `${cluster.id}-worker`);
    expect(workerCalls).toHaveLength(2);
    expect(ec2.state.alive(cluster.id)).toHaveLength(4);
  });

  it.each([
    {
      what: 'no capacity for the workers',
      arm: () => {
        beforeState.LaunchMember = () =>
          ec2.fail({ command: 'RunInstances', error: ec2Errors.insufficientCapacity('m5.xlarge') });
      },
      step: 'launch-members',
      message: /capacity/i,
    },
    {
      what: 'a partial launch',
      arm: () => ec2.state.launchOnlyNext(0),
      step: 'launch-scheduler',
      message: /launched 0|asked for/,
    },
  ])(
    'rolls back $what: FAILED at $step with the reason, every instance terminated',
    async ({ arm, step, message }) => {
      arm();
      const cluster = await createAndSettle(`fault-${step}`);

      expect(cluster.state).toBe('FAILED');
      expect(cluster.failure?.step).toBe(step);
      expect(cluster.failure?.message).toMatch(message);
      expect(ec2.state.alive(cluster.id)).toEqual([]);
    },
  );

  it('destroys a READY cluster: every instance terminated, the record DESTROYED', async () => {
    await harness.api.destroyCluster('on-ec2');
    await harness.plane.runner.waitForIdle();
    const cluster = await harness.api.getCluster('on-ec2');
    expect(cluster.failure).toBeUndefined();
    expect(cluster.state).toBe('DESTROYED');
    expect(ec2.state.alive(cluster.id)).toEqual([]);
  });

  it('destroys a cluster without terminating a foreign instance someone tagged as one of its workers', async () => {
    const created = await createAndSettle('forged-worker');
    expect(created.state).toBe('READY');
    // The cluster's tags, but launched by someone else: another client token, another profile.
    const [foreign] = ec2.state.seed(1, { tags: launchedByBilbo(created.id).tags, state: 'running' });

    await harness.api.destroyCluster('forged-worker');
    await harness.plane.runner.waitForIdle();

    const cluster = await harness.api.getCluster('forged-worker');
    expect(cluster.failure).toBeUndefined();
    expect(cluster.state).toBe('DESTROYED');
    expect(ec2.state.alive(cluster.id).map((instance) => instance.InstanceId)).toEqual([foreign]);
    expect(ec2.inputsOf('TerminateInstances').flatMap((input) => input.InstanceIds ?? [])).not.toContain(
      foreign,
    );
  });
});
