/**
 * A small stateful EC2 behind aws-sdk-client-mock, answering in EC2's own
 * shapes and with EC2's own errors (as the SDK throws them), for the EC2
 * adapters and for workflow tests that go from a request to READY:
 *
 *   const ec2 = mockEc2({ bootDescribes: 2 });
 *   const provider = new Ec2MachineProvider({ client: ec2.client, config: EC2_TEST_CONFIG, renderUserData });
 *   ec2.fail({ command: 'RunInstances', error: ec2Errors.throttled(), afterEffect: true });
 *   …
 *   ec2.inputsOf('RunInstances'); ec2.state.all(); ec2.restore();
 *
 * What it models: RunInstances (client-token idempotency, all-or-nothing
 * counts, DryRun, checks of image, type, key pair and security groups),
 * DescribeInstances (reservations, State {Code, Name}, IPs, tags, filters,
 * MaxResults/NextToken pages, at most 200 filter values a call), instances
 * pending for `bootDescribes` describes and then running with a public IP
 * (and, when asked, missing from the first `unseenDescribes` describes),
 * shutting-down and stopping that settle at the next describe, and
 * Stop/Start/Terminate with EC2's whole-call failures
 * (InvalidInstanceID.NotFound, IncorrectInstanceState), and CreateTags on
 * instances (refused, as right after a real launch, while an instance is
 * unseen; each refusal counts as a describe's worth of time), and EBS
 * volumes (ec2-mock-volumes.ts: DescribeVolumes, DeleteVolume). Time is
 * counted in describes: nothing changes between calls.
 */
import {
  CreateTagsCommand,
  DeleteVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { Ec2ProviderConfig } from '../../lambdas/adapters/ec2/launch-params.ts';
import { launchToken } from '../../lambdas/domain/machines.ts';
import type { RoleName } from '../../schemas/types.generated.ts';
import {
  type Ec2MockSettings,
  ec2Error,
  type MockImage,
  type MockInstanceType,
  type MockSecurityGroup,
} from './ec2-mock-resources.ts';
import { Ec2MockState, type SeedOptions } from './ec2-mock-state.ts';

export type { MockImage, MockInstanceType, MockSecurityGroup } from './ec2-mock-resources.ts';
export { ec2Error, ec2Errors } from './ec2-mock-resources.ts';
export { Ec2MockState, type SeedOptions } from './ec2-mock-state.ts';

export const MOCK_REGION = 'eu-west-1';
export const MOCK_ACCOUNT = '123456789012';
export const MOCK_VPC = 'vpc-0b1c2d3e4f5a6b7c8';
export const MOCK_SUBNET = 'subnet-0a1b2c3d4e5f6a7b8';
export const MOCK_AMI = 'ami-0123456789abcdef0';
export const MOCK_ROOT_DEVICE = '/dev/xvda';
export const MOCK_KEY_PAIR = 'bilbo-key';
export const MOCK_CLUSTER_SG = 'sg-0c0c0c0c0c0c0c0c0';
export const MOCK_PROFILE_SG = 'sg-0a1b2c3d4e5f60718';
/** The stack UUID of the deployment under test. */
export const MOCK_DEPLOYMENT_ID = '5e0f4a70-9d2b-11f1-8c3e-06a1b2c3d4e5';

/** The deployment settings that match the mock's default world. */
export const EC2_TEST_CONFIG: Ec2ProviderConfig = {
  subnetIds: [MOCK_SUBNET],
  clusterSecurityGroupId: MOCK_CLUSTER_SG,
  instanceProfileArn: `arn:aws:iam::${MOCK_ACCOUNT}:instance-profile/bilbo-cluster-instances`,
  deploymentId: MOCK_DEPLOYMENT_ID,
  allowedSecurityGroupIds: [MOCK_PROFILE_SG],
};

/**
 * What an instance bilbo launched for a cluster's role carries, for
 * Ec2MockState.seed: its tags, the launch's client token and the profile.
 */
export function launchedByBilbo(clusterId: string, role: RoleName = 'worker'): SeedOptions {
  return {
    tags: [
      { Key: 'bilbo:cluster-id', Value: clusterId },
      { Key: 'bilbo:role', Value: role },
      { Key: 'bilbo:first-index', Value: '0' },
      { Key: 'bilbo:managed', Value: MOCK_DEPLOYMENT_ID },
    ],
    clientToken: launchToken(clusterId, role),
    instanceProfileArn: EC2_TEST_CONFIG.instanceProfileArn,
  };
}

export const DEFAULT_INSTANCE_TYPES: Record<string, MockInstanceType> = {
  't3.small': { vcpus: 2, cores: 1, threadsPerCore: 2, memoryMiB: 2048 },
  't3.medium': { vcpus: 2, cores: 1, threadsPerCore: 2, memoryMiB: 4096 },
  't3.large': { vcpus: 2, cores: 1, threadsPerCore: 2, memoryMiB: 8192 },
  'm5.large': { vcpus: 2, cores: 1, threadsPerCore: 2, memoryMiB: 8192 },
  'm5.xlarge': { vcpus: 4, cores: 2, threadsPerCore: 2, memoryMiB: 16384 },
  'c5.2xlarge': { vcpus: 8, cores: 4, threadsPerCore: 2, memoryMiB: 16384 },
  'r5.large': { vcpus: 2, cores: 1, threadsPerCore: 2, memoryMiB: 16384 },
  'm7g.large': { vcpus: 2, cores: 2, threadsPerCore: 1, memoryMiB: 8192 },
};

export type Ec2CommandName =
  | 'RunInstances'
  | 'DescribeInstances'
  | 'StopInstances'
  | 'StartInstances'
  | 'TerminateInstances'
  | 'CreateTags'
  | 'DescribeImages'
  | 'DescribeKeyPairs'
  | 'DescribeSecurityGroups'
  | 'DescribeInstanceTypes'
  | 'DescribeVolumes'
  | 'DeleteVolume';

const COMMANDS = {
  RunInstances: RunInstancesCommand,
  DescribeInstances: DescribeInstancesCommand,
  StopInstances: StopInstancesCommand,
  StartInstances: StartInstancesCommand,
  TerminateInstances: TerminateInstancesCommand,
  CreateTags: CreateTagsCommand,
  DescribeImages: DescribeImagesCommand,
  DescribeKeyPairs: DescribeKeyPairsCommand,
  DescribeSecurityGroups: DescribeSecurityGroupsCommand,
  DescribeInstanceTypes: DescribeInstanceTypesCommand,
  DescribeVolumes: DescribeVolumesCommand,
  DeleteVolume: DeleteVolumeCommand,
} as const;

export type Ec2InputOf<C extends Ec2CommandName> = NonNullable<
  ConstructorParameters<(typeof COMMANDS)[C]>[0]
>;

export interface Ec2Fault {
  command: Ec2CommandName;
  error: Error;
  /** Which call of the command fails, counted from when the fault is added: 1 is the next one. @default 1 */
  call?: number;
  /** How many calls in a row fail, from `call` on. @default 1 */
  times?: number;
  /** The call takes effect, then throws: an answer lost on the way back. @default false */
  afterEffect?: boolean;
}

export interface MockEc2Options {
  /** @default MOCK_REGION */
  region?: string;
  /** Describes a new (or started) instance answers pending before running. @default 1 */
  bootDescribes?: number;
  /**
   * DescribeInstances calls a new instance is missing from, as after a real
   * RunInstances (eventual consistency); meanwhile Stop/Start/Terminate answer
   * InvalidInstanceID.NotFound for it. @default 0
   */
  unseenDescribes?: number;
  /** The largest DescribeInstances page, whatever MaxResults asks. @default 1000 */
  pageSize?: number;
  /** @default one image, MOCK_AMI, with root device MOCK_ROOT_DEVICE */
  images?: MockImage[];
  /** @default [MOCK_KEY_PAIR] */
  keyPairs?: string[];
  /** @default MOCK_CLUSTER_SG and MOCK_PROFILE_SG, both in MOCK_VPC */
  securityGroups?: MockSecurityGroup[];
  /** @default DEFAULT_INSTANCE_TYPES */
  instanceTypes?: Record<string, MockInstanceType>;
  /** Whether running instances get a public IP. @default true */
  publicIps?: boolean;
  /** What a DryRun RunInstances answers when its parameters are good. @default 'allow' */
  dryRun?: 'allow' | 'deny';
  faults?: Ec2Fault[];
}

export interface Ec2Mock {
  /** The client to hand to the adapters; only this instance is mocked. */
  client: EC2Client;
  /** The aws-sdk-client-mock stub (commandCalls, or custom answers with `.on(…)`). */
  stub: AwsClientStub<EC2Client>;
  /** The mock's world: instances, reservations, tokens; and helpers to change it. */
  state: Ec2MockState;
  /** Inputs of every call of the command so far, in order. */
  inputsOf<C extends Ec2CommandName>(command: C): Ec2InputOf<C>[];
  /** The command's calls so far. */
  callsOf(command: Ec2CommandName): number;
  fail(fault: Ec2Fault): Ec2Mock;
  restore(): void;
}

interface ArmedFault {
  command: Ec2CommandName;
  from: number;
  to: number;
  afterEffect: boolean;
  error: Error;
}

/** A fresh mocked EC2Client over a fresh world. */
export function mockEc2(options: MockEc2Options = {}): Ec2Mock {
  const region = options.region ?? MOCK_REGION;
  const settings: Ec2MockSettings = {
    region,
    account: MOCK_ACCOUNT,
    vpcId: MOCK_VPC,
    subnetId: MOCK_SUBNET,
    bootDescribes: options.bootDescribes ?? 1,
    unseenDescribes: options.unseenDescribes ?? 0,
    pageSize: options.pageSize ?? 1_000,
    images: options.images ?? [{ ImageId: MOCK_AMI, RootDeviceName: MOCK_ROOT_DEVICE }],
    keyPairs: options.keyPairs ?? [MOCK_KEY_PAIR],
    securityGroups: options.securityGroups ?? [
      { GroupId: MOCK_CLUSTER_SG, GroupName: 'bilbo-cluster', VpcId: MOCK_VPC },
      { GroupId: MOCK_PROFILE_SG, GroupName: 'team-ssh', VpcId: MOCK_VPC },
    ],
    instanceTypes: options.instanceTypes ?? DEFAULT_INSTANCE_TYPES,
    publicIps: options.publicIps ?? true,
    dryRun: options.dryRun ?? 'allow',
  };
  const client = new EC2Client({ region });
  const stub = mockClient(client);
  const state = new Ec2MockState(settings);
  const counts = new Map<Ec2CommandName, number>();
  let faults: ArmedFault[] = [];
  const callsOf = (command: Ec2CommandName) => counts.get(command) ?? 0;

  const mock: Ec2Mock = {
    client,
    stub,
    state,
    inputsOf: (command) =>
      stub.commandCalls(COMMANDS[command] as never).map((call) => call.args[0].input as never),
    callsOf,
    fail(fault) {
      const from = callsOf(fault.command) + (fault.call ?? 1);
      faults.push({
        command: fault.command,
        from,
        to: from + (fault.times ?? 1) - 1,
        afterEffect: fault.afterEffect ?? false,
        error: fault.error,
      });
      return mock;
    },
    restore: () => stub.restore(),
  };
  for (const fault of options.faults ?? []) mock.fail(fault);

  // First: sinon picks the last matching behaviour, so the specific answers below win.
  stub.onAnyCommand().rejects(ec2Error('InvalidAction', 'The action is not modelled by the EC2 mock.'));
  const answer = <C extends Ec2CommandName>(command: C, handle: (input: Ec2InputOf<C>) => unknown) => {
    stub.on(COMMANDS[command] as never).callsFake(async (input: Ec2InputOf<C>) => {
      const call = callsOf(command) + 1;
      counts.set(command, call);
      const fault = faults.find((f) => f.command === command && f.from <= call && call <= f.to);
      if (fault && call === fault.to) faults = faults.filter((f) => f !== fault);
      if (fault && !fault.afterEffect) throw fault.error;
      const output = handle(input);
      if (fault) throw fault.error;
      return { $metadata: { httpStatusCode: 200, requestId: state.requestId() }, ...(output as object) };
    });
  };
  answer('RunInstances', (input) => state.runInstances(input));
  answer('DescribeInstances', (input) => state.describeInstances(input));
  answer('StopInstances', (input) => state.stopInstances(input));
  answer('StartInstances', (input) => state.startInstances(input));
  answer('TerminateInstances', (input) => state.terminateInstances(input));
  answer('CreateTags', (input) => state.createTags(input));
  answer('DescribeImages', (input) => state.describeImages(input));
  answer('DescribeKeyPairs', (input) => state.describeKeyPairs(input));
  answer('DescribeSecurityGroups', (input) => state.describeSecurityGroups(input));
  answer('DescribeInstanceTypes', (input) => state.describeInstanceTypes(input));
  answer('DescribeVolumes', (input) => state.volumes.describeVolumes(input));
  answer('DeleteVolume', (input) => state.volumes.deleteVolume(input));
  return mock;
}
