/**
 * The EC2 machine provider: one RunInstances per launch (all or nothing,
 * idempotent by client token), describes in batches by an `instance-id`
 * filter (which, unlike InstanceIds, does not fail the whole call for one
 * unknown id), and stop/start/terminate that treat an instance already in the
 * wanted state, or gone, as done. Retries live above, in
 * RetryingMachineProvider: every EC2 failure leaves here as a domain error.
 */
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  type EC2Client,
  type Filter,
  type Instance,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import commonSchema from '../../../schemas/api/common.schema.json' with { type: 'json' };
import type { RoleName } from '../../../schemas/types.generated.ts';
import { ProviderBusyError, ValidationError } from '../../domain/errors.ts';
import { unseenMachine } from '../../domain/machines.ts';
import type {
  LaunchRequest,
  LooseVolume,
  Machine,
  MachineName,
  MachineProvider,
  MachineState,
  ManagedMachine,
} from '../../domain/ports.ts';
import { isEc2Error, translateEc2Error } from './errors.ts';
import {
  type Ec2ProviderConfig,
  imageIdOf,
  type RootDevice,
  rootDeviceOf,
  runInstancesInput,
  TAGS,
} from './launch-params.ts';
import { foreignReason } from './provenance.ts';
import { Ec2Volumes } from './volumes.ts';

export type { Ec2ProviderConfig } from './launch-params.ts';

export interface Ec2MachineProviderOptions {
  client: EC2Client;
  config: Ec2ProviderConfig;
  /** The instance's user-data script for a launch (not base64). */
  renderUserData: (request: LaunchRequest) => string;
  /** Where the instances bilbo refuses to touch are reported. @default console.warn */
  warn?: (message: string) => void;
}

/** Instance ids per Stop/Start/TerminateInstances call, and results per DescribeInstances page. */
export const EC2_BATCH = 1_000;
/**
 * Ids per filtered DescribeInstances call: EC2 refuses more than 200 filter
 * values in one call (FilterLimitExceeded), whatever MaxResults says.
 */
export const DESCRIBE_FILTER_BATCH = 200;

const EC2_STATES: Record<string, MachineState> = {
  pending: 'pending',
  running: 'running',
  stopping: 'stopping',
  stopped: 'stopped',
  'shutting-down': 'terminated',
  terminated: 'terminated',
};
/** The low byte of State.Code, for a Name this code does not know. */
const EC2_STATE_CODES: Record<number, MachineState> = {
  0: 'pending',
  16: 'running',
  32: 'terminated',
  48: 'terminated',
  64: 'stopping',
  80: 'stopped',
};
const ROLES = commonSchema.definitions.role.enum as readonly RoleName[];
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

type Action = 'StopInstances' | 'StartInstances' | 'TerminateInstances';
/** Instances in these states need nothing from the action. */
const ALREADY_DONE: Record<Action, readonly MachineState[]> = {
  StopInstances: ['stopping', 'stopped', 'terminated'],
  StartInstances: ['pending', 'running', 'terminated'],
  TerminateInstances: ['terminated'],
};
/** Rounds of "drop what is done or gone, ask again" before giving up. */
const ACTION_ROUNDS = 3;

export class Ec2MachineProvider implements MachineProvider {
  readonly name = 'ec2';
  private readonly client: EC2Client;
  private readonly config: Ec2ProviderConfig;
  private readonly renderUserData: (request: LaunchRequest) => string;
  private readonly warn: (message: string) => void;
  private readonly rootDevices = new Map<string, Promise<RootDevice>>();
  private readonly volumes: Ec2Volumes;

  constructor(options: Ec2MachineProviderOptions) {
    if (options.config.subnetIds.length === 0) {
      throw new Error(
        'Ec2ProviderConfig.subnetIds is empty: the instances need a subnet of the cluster network',
      );
    }
    this.client = options.client;
    this.config = options.config;
    this.renderUserData = options.renderUserData;
    this.warn = options.warn ?? ((message) => console.warn(message));
    this.volumes = new Ec2Volumes({
      client: this.client,
      deploymentId: this.config.deploymentId,
      warn: this.warn,
    });
  }

  async launch(request: LaunchRequest): Promise<Machine[]> {
    const imageId = imageIdOf(request.instance, this.config);
    const input = runInstancesInput(request, this.config, {
      userData: this.renderUserData(request),
      rootDevice: await this.rootDeviceOf(imageId),
    });
    const reservation = await this.send('RunInstances', () =>
      this.client.send(new RunInstancesCommand(input)),
    );
    const instances = [...(reservation.Instances ?? [])].sort(
      (a, b) => (a.AmiLaunchIndex ?? 0) - (b.AmiLaunchIndex ?? 0),
    );
    return instances.map((instance, position) => ({
      ...toMachine(instance),
      clusterId: request.clusterId,
      role: request.role,
      index: request.firstIndex + position,
    }));
  }

  async describe(ids: readonly string[]): Promise<Machine[]> {
    const found = new Map<string, Instance>();
    for (const batch of batches([...new Set(ids)], EC2_BATCH)) {
      for (const instance of await this.describeBatch(batch)) {
        if (instance.InstanceId) found.set(instance.InstanceId, instance);
      }
    }
    return ids.map((id) => {
      const instance = found.get(id);
      return instance ? toMachine(instance) : unseenMachine(id, 'unknown to EC2');
    });
  }

  /** Stops only instances this deployment launched, as terminate does. */
  async stop(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.act('StopInstances', await this.ownIds(ids));
  }

  /** Starts only instances this deployment launched, as terminate does. */
  async start(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.act('StartInstances', await this.ownIds(ids));
  }

  /**
   * Terminates only instances this deployment launched. Ids come from the
   * record and from findByCluster, both already ours; checking again costs
   * one DescribeInstances per 1,000 ids and keeps the one irreversible
   * action (and stop and start, which bill or halt someone's machine) safe
   * from any caller that got an id wrong.
   */
  async terminate(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.act('TerminateInstances', await this.ownIds(ids));
  }

  /** Only instances this deployment launched: anyone may put a cluster's tags on an instance. */
  async findByCluster(clusterId: string): Promise<Machine[]> {
    const instances = await this.describeWhere([
      { Name: `tag:${TAGS.clusterId}`, Values: [clusterId] },
      { Name: `tag:${TAGS.managed}`, Values: [this.config.deploymentId] },
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ]);
    return this.withoutForeign(instances).map(toMachine);
  }

  /** Every instance carrying this deployment's tag, stopped included, that this deployment launched. */
  async findManaged(): Promise<ManagedMachine[]> {
    const instances = await this.describeWhere([
      { Name: `tag:${TAGS.managed}`, Values: [this.config.deploymentId] },
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ]);
    return this.withoutForeign(instances).map((instance) => {
      const { id, clusterId, role, state } = toMachine(instance);
      // A stopped instance started again counts from that start: never older than it is.
      return { id, clusterId, role, state, launchedAt: instance.LaunchTime?.toISOString() ?? '' };
    });
  }

  findLooseVolumes(): Promise<LooseVolume[]> {
    return this.volumes.findLoose();
  }

  deleteVolumes(ids: readonly string[]): Promise<void> {
    return this.volumes.delete(ids);
  }

  /**
   * One CreateTags call per name, for the instances that share it: each
   * instance's own name takes a call of its own, since one call gives all
   * its instances the same tags. Pacing and retries are the caller's
   * (RetryingMachineProvider). An instance EC2 does not know yet (CreateTags
   * right after RunInstances can miss it) is a ProviderBusyError: worth
   * asking again in a moment.
   */
  async nameMachines(names: readonly MachineName[]): Promise<void> {
    const byName = new Map<string, string[]>();
    for (const { id, name } of names) byName.set(name, [...(byName.get(name) ?? []), id]);
    for (const [name, ids] of byName) {
      for (const batch of batches([...new Set(ids)], EC2_BATCH)) {
        try {
          await this.client.send(
            new CreateTagsCommand({ Resources: batch, Tags: [{ Key: TAGS.name, Value: name }] }),
          );
        } catch (error) {
          if (isEc2Error(error, 'InvalidInstanceID.NotFound')) {
            throw new ProviderBusyError(`EC2 does not list ${batch.join(', ')} yet to name it ${name}`, {
              cause: error,
            });
          }
          throw translateEc2Error(error, { action: 'CreateTags' });
        }
      }
    }
  }

  /**
   * The ids less those of instances EC2 lists but this deployment did not
   * launch, each reported. An id EC2 does not list yet (launched a moment
   * ago) is kept: a foreign instance is never that new.
   */
  private async ownIds(ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const listed: Instance[] = [];
    for (const batch of batches(unique, EC2_BATCH)) listed.push(...(await this.describeBatch(batch)));
    const foreign = new Set(listed.filter((instance) => this.isForeign(instance)).map((i) => i.InstanceId));
    return unique.filter((id) => !foreign.has(id));
  }

  private withoutForeign(instances: Instance[]): Instance[] {
    return instances.filter((instance) => !this.isForeign(instance));
  }

  /** Reports an instance this deployment did not launch. */
  private isForeign(instance: Instance): boolean {
    const reason = foreignReason(instance, this.config);
    if (reason === undefined) return false;
    const cluster = tagOf(instance, TAGS.clusterId) ?? 'unknown';
    this.warn(`left ${instance.InstanceId} alone: it carries the tags of cluster ${cluster} but ${reason}`);
    return true;
  }

  /**
   * Up to 1,000 ids in one call. EC2 fails the whole call for an id it does
   * not list (gone, or launched a moment ago); then the batch is asked again
   * by an instance-id filter, which skips unknown ids but takes at most 200
   * values a call.
   */
  private async describeBatch(batch: string[]): Promise<Instance[]> {
    try {
      const instances: Instance[] = [];
      let nextToken: string | undefined;
      do {
        const input: DescribeInstancesCommandInput = { InstanceIds: batch };
        if (nextToken) input.NextToken = nextToken;
        const page = await this.client.send(new DescribeInstancesCommand(input));
        for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
        nextToken = page.NextToken || undefined;
      } while (nextToken);
      return instances;
    } catch (error) {
      if (!isEc2Error(error, 'InvalidInstanceID.NotFound')) {
        throw translateEc2Error(error, { action: 'DescribeInstances' });
      }
    }
    const instances: Instance[] = [];
    for (const part of batches(batch, DESCRIBE_FILTER_BATCH)) {
      instances.push(...(await this.describeWhere([{ Name: 'instance-id', Values: part }])));
    }
    return instances;
  }

  /** Every instance matching the filters, following NextToken. */
  private async describeWhere(filters: Filter[]): Promise<Instance[]> {
    const instances: Instance[] = [];
    let nextToken: string | undefined;
    do {
      const input: DescribeInstancesCommandInput = { Filters: filters, MaxResults: EC2_BATCH };
      if (nextToken) input.NextToken = nextToken;
      const page = await this.send('DescribeInstances', () =>
        this.client.send(new DescribeInstancesCommand(input)),
      );
      for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return instances;
  }

  /**
   * One call per batch. EC2 fails a whole call for one unknown id, or one
   * instance in a state the action does not apply to; then the instances
   * already done or gone are dropped and the call is made again for the rest.
   */
  private async act(action: Action, ids: readonly string[]): Promise<void> {
    for (const batch of batches([...new Set(ids)], EC2_BATCH)) {
      let pending = batch;
      for (let round = 1; pending.length > 0; round++) {
        try {
          await this.client.send(commandFor(action, pending));
          break;
        } catch (error) {
          const refused = isEc2Error(error, 'InvalidInstanceID.*', 'IncorrectInstanceState');
          if (!refused) throw translateEc2Error(error, { action });
          const rest = (await this.describe(pending))
            .filter((machine) => !ALREADY_DONE[action].includes(machine.state))
            .map((machine) => machine.id);
          if (rest.length > 0 && (rest.length === pending.length || round >= ACTION_ROUNDS)) {
            // Neither done nor gone but in a passing state (stopping, asked to start): worth trying later.
            const reason = error instanceof Error ? error.message : String(error);
            throw new ProviderBusyError(`EC2 ${action} refused ${rest.join(', ')}: ${reason}`, {
              cause: error,
            });
          }
          pending = rest;
        }
      }
    }
  }

  /** The image's root device, looked up once per image. */
  private rootDeviceOf(imageId: string): Promise<RootDevice> {
    let lookup = this.rootDevices.get(imageId);
    if (!lookup) {
      lookup = this.describeRootDevice(imageId);
      this.rootDevices.set(imageId, lookup);
      lookup.catch(() => this.rootDevices.delete(imageId));
    }
    return lookup;
  }

  private async describeRootDevice(imageId: string): Promise<RootDevice> {
    const answer = await this.send('DescribeImages', () =>
      this.client.send(new DescribeImagesCommand({ ImageIds: [imageId] })),
    );
    const device = rootDeviceOf(answer.Images?.find((image) => image.ImageId === imageId));
    if (!device) {
      throw new ValidationError(
        `instance.ami: ${imageId} does not exist or is not shared with this account`,
        {
          field: 'instance.ami',
        },
      );
    }
    return device;
  }

  private async send<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateEc2Error(error, { action });
    }
  }
}

function commandFor(action: Action, ids: string[]) {
  const input = { InstanceIds: ids };
  if (action === 'StopInstances') return new StopInstancesCommand(input);
  if (action === 'StartInstances') return new StartInstancesCommand(input);
  return new TerminateInstancesCommand(input);
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function tagOf(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((tag) => tag.Key === key)?.Value;
}

export function machineStateOf(state: Instance['State']): MachineState {
  const byName = state?.Name ? EC2_STATES[state.Name] : undefined;
  // The high byte of Code is internal to EC2 and means nothing to us.
  return byName ?? EC2_STATE_CODES[(state?.Code ?? 0) & 0xff] ?? 'pending';
}

/** A Machine from what EC2 says of an instance; its cluster, role and index come from its tags. */
export function toMachine(instance: Instance): Machine {
  const state = machineStateOf(instance.State);
  const role = tagOf(instance, TAGS.role);
  const firstIndex = Number(tagOf(instance, TAGS.firstIndex) ?? 0);
  const machine: Machine = {
    id: instance.InstanceId ?? '',
    clusterId: tagOf(instance, TAGS.clusterId) ?? '',
    role: ROLES.includes(role as RoleName) ? (role as RoleName) : 'worker',
    index: (Number.isInteger(firstIndex) ? firstIndex : 0) + (instance.AmiLaunchIndex ?? 0),
    state,
    privateIp: instance.PrivateIpAddress ?? '',
  };
  if (instance.PublicIpAddress) machine.publicIp = instance.PublicIpAddress;
  const reason = instance.StateReason?.Message;
  if (reason && ['stopping', 'stopped', 'terminated'].includes(state)) machine.stateReason = reason;
  return machine;
}
