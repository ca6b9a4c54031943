/**
 * An in-memory MachineProvider that behaves like EC2 where it matters to
 * the workflow steps: `i-0…` hex ids, machines pending for a few describes
 * before they run, idempotent launches by token, look-ups by cluster tag,
 * and terminate going straight to terminated. Tests inject faults: a thrown
 * error on the Nth call of a method (before or after the call took effect),
 * a partial launch, a machine that dies, a machine that will not die.
 */

import { unseenMachine } from '../../lambdas/domain/machines.ts';
import type {
  Clock,
  LaunchRequest,
  LooseVolume,
  Machine,
  MachineName,
  MachineProvider,
  MachineState,
  ManagedMachine,
} from '../../lambdas/domain/ports.ts';

export type ProviderMethod =
  | 'launch'
  | 'describe'
  | 'stop'
  | 'start'
  | 'terminate'
  | 'findByCluster'
  | 'findManaged'
  | 'forget'
  | 'findLooseVolumes'
  | 'deleteVolumes'
  | 'nameMachines';

export interface FakeMachineProviderOptions {
  /** How many describes a new (or started) machine answers `pending` before `running`. @default 1 */
  pendingDescribes?: number;
  /** What a launch records as its machines' launch time. @default the real clock */
  clock?: Clock;
}

export interface FaultOptions {
  /** Which call of the method fails, counted from now: 1 is the next one. @default 1 */
  call?: number;
  /** The call takes effect first (a lost response), then throws. @default false */
  afterEffect?: boolean;
}

interface FakeMachine extends Machine {
  describesUntilRunning: number;
  refusesToDie: boolean;
  launchedAt: string;
}

interface Fault {
  method: ProviderMethod;
  atCall: number;
  afterEffect: boolean;
  error: Error;
}

/** The shape of an AWS SDK v3 service error, as the EC2 client throws it. */
export function awsError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: '00000000-0000-4000-8000-000000000000', attempts: 1 },
  });
}

export function throttlingError(): Error {
  return awsError('ThrottlingException', 'Rate exceeded');
}

export function insufficientCapacityError(instanceType = 't3.medium'): Error {
  return awsError(
    'InsufficientInstanceCapacity',
    `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (eu-west-1a).`,
    500,
  );
}

export class FakeMachineProvider implements MachineProvider {
  readonly name = 'fake';
  /** Every call, in order. */
  readonly calls: Array<{ method: ProviderMethod; args: unknown }> = [];
  /** Each machine's name, as nameMachines last set it. */
  readonly names = new Map<string, string>();
  private readonly machines = new Map<string, FakeMachine>();
  private readonly launchesByToken = new Map<string, string[]>();
  private readonly callCounts = new Map<ProviderMethod, number>();
  private readonly stuckRunning = new Set<string>();
  private faults: Fault[] = [];
  private nextLaunchLimit: number | undefined;
  private sequence = 0;
  private readonly pendingDescribes: number;
  private readonly clock: Clock;
  /** Volumes by id; a loose one has no machine. */
  private readonly volumes = new Map<string, LooseVolume & { attachedTo?: string }>();

  constructor(options: FakeMachineProviderOptions = {}) {
    this.pendingDescribes = options.pendingDescribes ?? 1;
    this.clock = options.clock ?? { now: () => new Date() };
  }

  // ------------------------------------------------------------ faults

  /** The chosen call of `method` throws `error`. */
  failOn(method: ProviderMethod, error: Error, options: FaultOptions = {}): this {
    this.faults.push({
      method,
      atCall: this.callsOf(method) + (options.call ?? 1),
      afterEffect: options.afterEffect ?? false,
      error,
    });
    return this;
  }

  /** The next launch starts only `count` machines, whatever it asked for. */
  launchOnlyNext(count: number): this {
    this.nextLaunchLimit = count;
    return this;
  }

  /** The machine dies: terminated, with a reason, as EC2 reports a crashed or reclaimed instance. */
  kill(id: string, reason = 'Server.InternalError: Internal error on launch'): void {
    const machine = this.mustFind(id);
    machine.state = 'terminated';
    machine.stateReason = reason;
  }

  /** Terminate calls leave the machine as it is (a stuck shutdown). */
  refuseToDie(id: string, refuses = true): void {
    this.mustFind(id).refusesToDie = refuses;
  }

  /** A volume of the cluster's, made now, attached to `attachedTo` or to nothing; returns its id. */
  addVolume(clusterId: string, attachedTo?: string): string {
    const id = `vol-0${(this.sequence++).toString(16).padStart(16, '0')}`;
    this.volumes.set(id, {
      id,
      clusterId,
      createdAt: this.clock.now().toISOString(),
      ...(attachedTo ? { attachedTo } : {}),
    });
    return id;
  }

  /** Every volume that still exists. */
  volumeIds(): string[] {
    return [...this.volumes.keys()];
  }

  /** Stop calls leave the machine running (a stuck stop). */
  refuseToStop(id: string): void {
    this.stuckRunning.add(id);
  }

  // ------------------------------------------------------------ inspection

  callsOf(method: ProviderMethod): number {
    return this.callCounts.get(method) ?? 0;
  }

  launchRequests(): LaunchRequest[] {
    return this.calls.filter((call) => call.method === 'launch').map((call) => call.args as LaunchRequest);
  }

  /** Every machine ever launched, in launch order, as the provider sees it now. */
  all(): Machine[] {
    return [...this.machines.values()].map(snapshot);
  }

  machine(id: string): Machine {
    return snapshot(this.mustFind(id));
  }

  /** Machines of the cluster that are not terminated, without counting as a call. */
  alive(clusterId: string): Machine[] {
    return this.all().filter((machine) => machine.clusterId === clusterId && machine.state !== 'terminated');
  }

  // ------------------------------------------------------------ the port

  async launch(request: LaunchRequest): Promise<Machine[]> {
    return this.call('launch', request, () => {
      const earlier = this.launchesByToken.get(request.idempotencyToken);
      if (earlier) return earlier.map((id) => snapshot(this.mustFind(id)));
      const count = Math.min(request.count, this.nextLaunchLimit ?? request.count);
      this.nextLaunchLimit = undefined;
      const launched: FakeMachine[] = [];
      for (let i = 0; i < count; i++) launched.push(this.newMachine(request, request.firstIndex + i));
      this.launchesByToken.set(
        request.idempotencyToken,
        launched.map((machine) => machine.id),
      );
      return launched.map(snapshot);
    });
  }

  async describe(ids: readonly string[]): Promise<Machine[]> {
    return this.call('describe', [...ids], () =>
      ids.map((id) => {
        const machine = this.machines.get(id);
        if (!machine) return unseenMachine(id, 'the provider does not know this instance');
        if (machine.state === 'pending') {
          machine.describesUntilRunning -= 1;
          if (machine.describesUntilRunning <= 0) machine.state = 'running';
        }
        return snapshot(machine);
      }),
    );
  }

  async stop(ids: readonly string[]): Promise<void> {
    return this.call('stop', [...ids], () =>
      this.setState(
        ids.filter((id) => !this.stuckRunning.has(id)),
        ['pending', 'running'],
        'stopped',
      ),
    );
  }

  async start(ids: readonly string[]): Promise<void> {
    return this.call('start', [...ids], () => {
      for (const machine of this.known(ids)) {
        if (machine.state !== 'stopped') continue;
        machine.state = 'pending';
        machine.describesUntilRunning = this.pendingDescribes;
      }
    });
  }

  async terminate(ids: readonly string[]): Promise<void> {
    return this.call('terminate', [...ids], () => {
      for (const machine of this.known(ids)) {
        if (machine.refusesToDie) continue;
        machine.state = 'terminated';
      }
    });
  }

  async findByCluster(clusterId: string): Promise<Machine[]> {
    return this.call('findByCluster', clusterId, () => this.alive(clusterId));
  }

  async findManaged(): Promise<ManagedMachine[]> {
    return this.call('findManaged', undefined, () =>
      [...this.machines.values()]
        .filter((machine) => machine.state !== 'terminated')
        .map(({ id, clusterId, role, state, launchedAt }) => ({ id, clusterId, role, state, launchedAt })),
    );
  }

  /** Machines it forgot are gone for good: describe no longer knows them. */
  async forget(ids: readonly string[]): Promise<void> {
    return this.call('forget', [...ids], () => {
      for (const machine of this.known(ids))
        if (machine.state === 'terminated') this.machines.delete(machine.id);
    });
  }

  async findLooseVolumes(): Promise<LooseVolume[]> {
    return this.call('findLooseVolumes', undefined, () =>
      [...this.volumes.values()]
        .filter((volume) => volume.attachedTo === undefined)
        .map(({ id, clusterId, createdAt }) => ({ id, clusterId, createdAt })),
    );
  }

  async deleteVolumes(ids: readonly string[]): Promise<void> {
    return this.call('deleteVolumes', [...ids], () => {
      for (const id of ids) if (this.volumes.get(id)?.attachedTo === undefined) this.volumes.delete(id);
    });
  }

  async nameMachines(names: readonly MachineName[]): Promise<void> {
    return this.call('nameMachines', [...names], () => {
      for (const { id, name } of names) if (this.machines.has(id)) this.names.set(id, name);
    });
  }

  // ------------------------------------------------------------ internals

  private async call<T>(method: ProviderMethod, args: unknown, effect: () => T): Promise<T> {
    const count = this.callsOf(method) + 1;
    this.callCounts.set(method, count);
    this.calls.push({ method, args });
    const fault = this.faults.find((f) => f.method === method && f.atCall === count);
    if (fault) this.faults = this.faults.filter((f) => f !== fault);
    if (fault && !fault.afterEffect) throw fault.error;
    const result = effect();
    if (fault) throw fault.error;
    return result;
  }

  private newMachine(request: LaunchRequest, index: number): FakeMachine {
    const n = this.sequence++;
    const machine: FakeMachine = {
      id: `i-0${n.toString(16).padStart(16, '0')}`,
      clusterId: request.clusterId,
      role: request.role,
      index,
      state: 'pending',
      privateIp: `10.0.${Math.floor(n / 250)}.${(n % 250) + 4}`,
      describesUntilRunning: this.pendingDescribes,
      refusesToDie: false,
      launchedAt: this.clock.now().toISOString(),
    };
    this.machines.set(machine.id, machine);
    return machine;
  }

  private setState(ids: readonly string[], from: readonly MachineState[], to: MachineState): void {
    for (const machine of this.known(ids)) {
      if (from.includes(machine.state)) machine.state = to;
    }
  }

  private known(ids: readonly string[]): FakeMachine[] {
    return ids.flatMap((id) => {
      const machine = this.machines.get(id);
      return machine ? [machine] : [];
    });
  }

  private mustFind(id: string): FakeMachine {
    const machine = this.machines.get(id);
    if (!machine) throw new Error(`the fake provider has no machine ${id}`);
    return machine;
  }
}

function snapshot(machine: FakeMachine): Machine {
  const { describesUntilRunning: _d, refusesToDie: _r, launchedAt: _l, ...rest } = machine;
  return { ...rest };
}
