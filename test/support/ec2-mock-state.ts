/**
 * The instances behind the EC2 mock (see ec2-mock.ts): instances,
 * reservations and client tokens, RunInstances, DescribeInstances and
 * Stop/Start/Terminate, answering in EC2's shapes or throwing EC2's errors
 * as the SDK does. Time is counted in describes.
 */
import type {
  CreateTagsCommandInput,
  DescribeImagesCommandInput,
  DescribeInstancesCommandInput,
  DescribeInstanceTypesCommandInput,
  DescribeKeyPairsCommandInput,
  DescribeSecurityGroupsCommandInput,
  Instance,
  InstanceStateChange,
  InstanceStateName,
  RunInstancesCommandInput,
  Tag,
} from '@aws-sdk/client-ec2';
import { Ec2MockPages } from './ec2-mock-pages.ts';
import {
  checkFilterLimit,
  Ec2MockResources,
  type Ec2MockSettings,
  ec2Error,
  ec2Errors,
  matches,
  tagOf,
} from './ec2-mock-resources.ts';
import { Ec2MockVolumes } from './ec2-mock-volumes.ts';

const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};
const USER_SHUTDOWN = {
  Code: 'Client.UserInitiatedShutdown',
  Message: 'Client.UserInitiatedShutdown: User initiated shutdown',
};

export interface SeedOptions {
  tags?: Tag[];
  state?: InstanceStateName;
  clientToken?: string;
  instanceProfileArn?: string;
  /** @default 2026-01-01T12:00:00Z */
  launchTime?: Date;
}

interface Live {
  instance: Instance;
  reservationId: string;
  /** Describes left before a passing state (pending, stopping, shutting-down) settles. */
  countdown: number;
  /** DescribeInstances calls the instance is still missing from (eventual consistency after launch). */
  unseenFor: number;
  refusesToDie: boolean;
  /** Times it was started after a stop: each start gives it a new public address, as EC2 does. */
  restarts: number;
}

export class Ec2MockState {
  /** RunInstances calls that launched instances (a replayed client token launches none). */
  launches = 0;
  private readonly live = new Map<string, Live>();
  private readonly tokens = new Map<string, { reservationId: string; fingerprint: string }>();
  private readonly pages: Ec2MockPages;
  private sequence = 0;
  private instanceCount = 0;
  private launchLimit: number | undefined;

  private readonly resources: Ec2MockResources;
  /** The EBS volumes: seeded ones, described and deleted by their own calls. */
  readonly volumes: Ec2MockVolumes;

  constructor(readonly settings: Ec2MockSettings) {
    this.resources = new Ec2MockResources(settings);
    this.pages = new Ec2MockPages(settings, () => this.requestId(), {
      idsParameter: 'instancesSet',
      maxResults: 1000,
      tokenPrefix: 'eyJ2IjoiMiIsImMiOiI',
    });
    this.volumes = new Ec2MockVolumes(settings, () => this.requestId());
  }

  // ------------------------------------------------------------ inspection and changes

  /** Every instance EC2 still knows, in launch order, as DescribeInstances would show it. */
  all(): Instance[] {
    return [...this.live.values()].map((live) => structuredClone(live.instance));
  }

  instance(id: string): Instance {
    return structuredClone(this.mustFind(id).instance);
  }

  /** The cluster's instances that are neither shutting down nor terminated. */
  alive(clusterId: string): Instance[] {
    return this.all().filter(
      (i) =>
        tagOf(i, 'bilbo:cluster-id') === clusterId &&
        !['shutting-down', 'terminated'].includes(i.State?.Name ?? ''),
    );
  }

  /**
   * Adds instances without a RunInstances call, as if launched earlier (with
   * the client token and instance profile given, if any); returns their ids.
   */
  seed(count: number, options: SeedOptions = {}): string[] {
    const reservationId = this.newId('r');
    const input: RunInstancesCommandInput = {
      ImageId: this.settings.images[0]?.ImageId,
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      ...(options.clientToken ? { ClientToken: options.clientToken } : {}),
      ...(options.instanceProfileArn ? { IamInstanceProfile: { Arn: options.instanceProfileArn } } : {}),
    };
    return Array.from({ length: count }, (_, index) => {
      const live = this.newInstance(input, reservationId, index, options.tags ?? []);
      live.unseenFor = 0;
      if (options.launchTime) live.instance.LaunchTime = options.launchTime;
      if (options.state) this.setState(live.instance.InstanceId!, options.state);
      return live.instance.InstanceId!;
    });
  }

  /** The next launch answers only `count` instances (EC2 does not, with MinCount = MaxCount; a provider must cope). */
  launchOnlyNext(count: number): void {
    this.launchLimit = count;
  }

  /** The instance dies on its own, as a crashed or reclaimed instance does. */
  kill(id: string, reason = 'Server.InternalError: Internal error on launch'): void {
    this.setState(id, 'terminated');
    this.mustFind(id).instance.StateReason = { Code: reason.split(':')[0], Message: reason };
  }

  /** The instance's passing state (pending, stopping, shutting-down) lasts this many more describes. */
  settleAfter(id: string, describes: number): void {
    this.mustFind(id).countdown = describes;
  }

  /** Terminate calls succeed but leave the instance as it is (a stuck shutdown). */
  refuseToDie(id: string, refuses = true): void {
    this.mustFind(id).refusesToDie = refuses;
  }

  /** EC2 forgets the instance, as it does an hour after termination. */
  forget(id: string): void {
    this.live.delete(id);
  }

  setState(id: string, name: InstanceStateName): void {
    const live = this.mustFind(id);
    live.instance.State = { Code: STATE_CODES[name], Name: name };
    live.countdown = name === 'pending' ? this.settings.bootDescribes : 1;
    if (name === 'running') this.giveAddresses(live);
    if (name === 'terminated') {
      this.volumes.instanceTerminated(id);
      delete live.instance.PrivateIpAddress;
      delete live.instance.PublicIpAddress;
    }
  }

  requestId(): string {
    return `${(this.sequence++).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
  }

  // ------------------------------------------------------------ RunInstances

  runInstances(input: RunInstancesCommandInput) {
    const fingerprint = JSON.stringify([
      input.ImageId,
      input.InstanceType,
      input.MinCount,
      input.MaxCount,
      input.KeyName,
    ]);
    const earlier = input.ClientToken ? this.tokens.get(input.ClientToken) : undefined;
    if (earlier && !input.DryRun) {
      if (earlier.fingerprint !== fingerprint) {
        throw ec2Error(
          'IdempotentParameterMismatch',
          'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).',
        );
      }
      return this.reservation(earlier.reservationId);
    }
    this.resources.validateLaunch(input);
    if (input.DryRun) {
      if (this.settings.dryRun === 'deny') throw ec2Errors.unauthorized();
      throw ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
    }
    const count = Math.min(input.MaxCount ?? 1, this.launchLimit ?? Number.POSITIVE_INFINITY);
    this.launchLimit = undefined;
    const reservationId = this.newId('r');
    const tags = input.TagSpecifications?.find((spec) => spec.ResourceType === 'instance')?.Tags ?? [];
    for (let index = 0; index < count; index++) this.newInstance(input, reservationId, index, tags);
    if (input.ClientToken) this.tokens.set(input.ClientToken, { reservationId, fingerprint });
    this.launches += 1;
    return this.reservation(reservationId);
  }

  private newInstance(
    input: RunInstancesCommandInput,
    reservationId: string,
    index: number,
    tags: Tag[],
  ): Live {
    const n = this.instanceCount++;
    const id = `i-0${n.toString(16).padStart(16, '0')}`;
    const ip = `10.0.${Math.floor(n / 250) % 256}.${(n % 250) + 4}`;
    const image = this.settings.images.find((i) => i.ImageId === input.ImageId);
    const instance: Instance = {
      InstanceId: id,
      ImageId: input.ImageId,
      InstanceType: input.InstanceType,
      LaunchTime: new Date(Date.UTC(2026, 0, 1, 12, 0, 0)),
      AmiLaunchIndex: index,
      State: { Code: 0, Name: 'pending' },
      PrivateIpAddress: ip,
      PrivateDnsName: `ip-${ip.replaceAll('.', '-')}.${this.settings.region}.compute.internal`,
      SubnetId: input.SubnetId ?? this.settings.subnetId,
      VpcId: this.settings.vpcId,
      Placement: { AvailabilityZone: `${this.settings.region}a` },
      SecurityGroups: (input.SecurityGroupIds ?? []).map((GroupId) => ({
        GroupId,
        GroupName:
          this.settings.securityGroups.find((group) => group.GroupId === GroupId)?.GroupName ?? GroupId,
      })),
      Tags: structuredClone(tags),
      RootDeviceType: 'ebs',
      RootDeviceName: image?.RootDeviceName ?? '/dev/xvda',
      Architecture: 'x86_64',
    };
    if (input.KeyName) instance.KeyName = input.KeyName;
    if (input.ClientToken) instance.ClientToken = input.ClientToken;
    if (input.IamInstanceProfile?.Arn)
      instance.IamInstanceProfile = { Arn: input.IamInstanceProfile.Arn, Id: 'AIPAEXAMPLEPROFILEID' };
    if (input.MetadataOptions)
      instance.MetadataOptions = {
        ...input.MetadataOptions,
        State: 'pending',
      } as Instance['MetadataOptions'];
    const live: Live = {
      instance,
      reservationId,
      countdown: this.settings.bootDescribes,
      unseenFor: this.settings.unseenDescribes,
      refusesToDie: false,
      restarts: 0,
    };
    this.live.set(id, live);
    return live;
  }

  private reservation(reservationId: string) {
    const instances = [...this.live.values()].filter((live) => live.reservationId === reservationId);
    return {
      ReservationId: reservationId,
      OwnerId: this.settings.account,
      Groups: [],
      Instances: instances.map((live) => structuredClone(live.instance)),
    };
  }

  // ------------------------------------------------------------ DescribeInstances

  describeInstances(input: DescribeInstancesCommandInput) {
    const { ids, nextToken } = this.pages.page(input, input.InstanceIds?.length ?? 0, () => {
      checkFilterLimit(input.Filters);
      let candidates: Live[];
      try {
        candidates = input.InstanceIds?.length
          ? this.known(input.InstanceIds)
          : [...this.live.values()].filter((live) => live.unseenFor === 0);
      } finally {
        for (const live of this.live.values()) live.unseenFor = Math.max(0, live.unseenFor - 1);
      }
      const stateFilters = (input.Filters ?? []).filter((f) => f.Name === 'instance-state-name');
      const otherFilters = (input.Filters ?? []).filter((f) => f.Name !== 'instance-state-name');
      const seen = candidates.filter((live) => matches(live.instance, otherFilters));
      for (const live of seen) this.tick(live);
      return seen
        .filter((live) => matches(live.instance, stateFilters))
        .map((live) => live.instance.InstanceId!);
    });
    const answer: { Reservations: ReturnType<Ec2MockState['reservation']>[]; NextToken?: string } = {
      Reservations: this.grouped(ids),
    };
    if (nextToken) answer.NextToken = nextToken;
    return answer;
  }

  /** One describe's worth of time for an instance in a passing state. */
  private tick(live: Live): void {
    const state = live.instance.State?.Name;
    if (state !== 'pending' && state !== 'stopping' && state !== 'shutting-down') return;
    live.countdown -= 1;
    if (live.countdown > 0) return;
    const settled = ({ pending: 'running', stopping: 'stopped', 'shutting-down': 'terminated' } as const)[
      state
    ];
    this.setState(live.instance.InstanceId!, settled);
    if (settled === 'stopped') delete live.instance.PublicIpAddress;
  }

  private giveAddresses(live: Live): void {
    if (!this.settings.publicIps || live.instance.PublicIpAddress) return;
    const n = Number.parseInt(live.instance.InstanceId!.slice(2), 16);
    live.instance.PublicIpAddress = `203.${live.restarts % 256}.${Math.floor(n / 250) % 256}.${(n % 250) + 4}`;
  }

  private grouped(ids: string[]) {
    const byReservation = new Map<string, Instance[]>();
    for (const id of ids) {
      const live = this.mustFind(id);
      const list = byReservation.get(live.reservationId) ?? [];
      list.push(structuredClone(live.instance));
      byReservation.set(live.reservationId, list);
    }
    return [...byReservation].map(([ReservationId, Instances]) => ({
      ReservationId,
      OwnerId: this.settings.account,
      Groups: [],
      Instances,
    }));
  }

  // ------------------------------------------------------------ Stop, Start, Terminate

  terminateInstances(input: { InstanceIds: string[] | undefined }) {
    const changes = this.known(input.InstanceIds ?? []).map((live) => {
      const previous = live.instance.State?.Name ?? 'pending';
      if (!live.refusesToDie && previous !== 'shutting-down' && previous !== 'terminated') {
        this.setState(live.instance.InstanceId!, 'shutting-down');
        live.instance.StateReason = { ...USER_SHUTDOWN };
      }
      return change(live, previous);
    });
    return { TerminatingInstances: changes };
  }

  stopInstances(input: { InstanceIds: string[] | undefined }) {
    const targets = this.known(input.InstanceIds ?? []);
    this.refuseUnless(targets, ['running', 'stopping', 'stopped'], 'stopped');
    const changes = targets.map((live) => {
      const previous = live.instance.State?.Name ?? 'running';
      if (previous === 'running') {
        this.setState(live.instance.InstanceId!, 'stopping');
        live.instance.StateReason = { ...USER_SHUTDOWN };
      }
      return change(live, previous);
    });
    return { StoppingInstances: changes };
  }

  startInstances(input: { InstanceIds: string[] | undefined }) {
    const targets = this.known(input.InstanceIds ?? []);
    this.refuseUnless(targets, ['pending', 'running', 'stopped'], 'started');
    const changes = targets.map((live) => {
      const previous = live.instance.State?.Name ?? 'stopped';
      if (previous === 'stopped') {
        live.restarts += 1;
        this.setState(live.instance.InstanceId!, 'pending');
        delete live.instance.StateReason;
      }
      return change(live, previous);
    });
    return { StartingInstances: changes };
  }

  // ------------------------------------------------------------ CreateTags

  /**
   * Sets the tags on every instance, replacing those with the same keys; the
   * whole call fails for one instance EC2 does not list yet (which is then
   * a describe's worth of time closer to being listed) or no longer knows.
   */
  createTags(input: CreateTagsCommandInput) {
    const ids = input.Resources ?? [];
    let targets: Live[];
    try {
      targets = this.known(ids);
    } finally {
      for (const id of ids) {
        const live = this.live.get(id);
        if (live) live.unseenFor = Math.max(0, live.unseenFor - 1);
      }
    }
    for (const live of targets) {
      const tags = (live.instance.Tags ?? []).filter(
        (tag) => !input.Tags?.some((wanted) => wanted.Key === tag.Key),
      );
      live.instance.Tags = [...tags, ...structuredClone(input.Tags ?? [])];
    }
    return {};
  }

  /** EC2 fails the whole call when one instance is in a state the action does not apply to. */
  private refuseUnless(targets: Live[], allowed: InstanceStateName[], verb: string): void {
    const wrong = targets.find((live) => !allowed.includes(live.instance.State?.Name ?? 'pending'));
    if (wrong) {
      throw ec2Error(
        'IncorrectInstanceState',
        `The instance '${wrong.instance.InstanceId}' is not in a state from which it can be ${verb}.`,
      );
    }
  }

  /** The instances, or EC2's whole-call error naming every id it does not know. */
  private known(ids: readonly string[]): Live[] {
    const malformed = ids.find((id) => !/^i-[0-9a-f]{8,17}$/.test(id));
    if (malformed) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
    const unknown = ids.filter((id) => (this.live.get(id)?.unseenFor ?? 1) > 0);
    if (unknown.length === 1)
      throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${unknown[0]}' does not exist`);
    if (unknown.length > 1)
      throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${unknown.join(', ')}' do not exist`);
    return [...new Set(ids)].map((id) => this.mustFind(id));
  }

  // ------------------------------------------------------------ the other describes

  describeImages(input: DescribeImagesCommandInput) {
    return this.resources.describeImages(input);
  }

  describeKeyPairs(input: DescribeKeyPairsCommandInput) {
    return this.resources.describeKeyPairs(input);
  }

  describeSecurityGroups(input: DescribeSecurityGroupsCommandInput) {
    return this.resources.describeSecurityGroups(input);
  }

  describeInstanceTypes(input: DescribeInstanceTypesCommandInput) {
    return this.resources.describeInstanceTypes(input);
  }

  // ------------------------------------------------------------ internals

  private newId(prefix: string): string {
    return `${prefix}-0${(this.sequence++).toString(16).padStart(16, '0')}`;
  }

  private mustFind(id: string): Live {
    const live = this.live.get(id);
    if (!live) throw new Error(`the EC2 mock has no instance ${id}`);
    return live;
  }
}

function change(live: Live, previous: InstanceStateName): InstanceStateChange {
  return {
    InstanceId: live.instance.InstanceId,
    PreviousState: { Code: STATE_CODES[previous], Name: previous },
    CurrentState: structuredClone(live.instance.State),
  };
}
