/**
 * The local machine provider: each "instance" is a real process on this
 * machine — what the cluster's kind says the role runs — leading its own
 * process group so that whatever it forks goes down with it. Child handles
 * live in memory for exit codes; the registry on disk is the source of truth.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProvisioningError } from '../../domain/errors.ts';
import { kindOf } from '../../domain/kinds/index.ts';
import { unseenMachine } from '../../domain/machines.ts';
import type {
  LaunchRequest,
  Machine,
  MachineProvider,
  ManagedMachine,
  PortsReport,
  ProcessSpec,
  SecretReader,
} from '../../domain/ports.ts';
import { type InstanceRecord, InstanceRegistry } from './instance-registry.ts';
import { leaseOf } from './process-lease.ts';
import {
  groupListeningPorts,
  groupListensOn,
  groupStopped,
  isProcessAlive,
  killGroup,
  readProcStartTicks,
  signalGroup,
  spawnTied,
  stopGroup,
} from './processes.ts';

export interface LocalProcessProviderOptions {
  /** Where the registry, logs and per-instance work folders live. */
  stateDir: string;
  /** Where each program the process specs name is, e.g. `{ python: '/usr/bin/python3' }`. */
  programs: Readonly<Record<string, string>>;
  /** @default '127.0.0.1' */
  host?: string;
  /** How long a terminated group gets between SIGTERM and SIGKILL. @default 5000 */
  terminateGraceMs?: number;
  /** What to run for a launch. @default what the cluster's kind runs for the role */
  processSpec?: (request: LaunchRequest) => ProcessSpec;
  /** How long a process gets to report the ports it listens on. @default 60000 */
  portsReportTimeoutMs?: number;
  /** Where the secrets a process spec names are read (a notebook's token). @default none: such a launch fails */
  secrets?: SecretReader;
}

const kindProcessOf = (request: LaunchRequest): ProcessSpec =>
  kindOf(request.bootstrap.kind).processSpec(request);

/** Set in every instance's environment, and so inherited by all its descendants. */
export const INSTANCE_ENV_VAR = 'BILBO_INSTANCE_ID';

const LOG_TAIL_LINES = 3;
/** How long describe waits for the exit status of a child that just died. */
const EXIT_STATUS_WAIT_MS = 1_000;
const PORTS_REPORT_POLL_MS = 50;

export class LocalProcessProvider implements MachineProvider {
  readonly name = 'local';
  readonly registry: InstanceRegistry;
  private readonly host: string;
  private readonly graceMs: number;
  private readonly children = new Map<string, ChildProcess>();
  /** Launches in flight per idempotency token, so a concurrent retry waits for the first. */
  private readonly launching = new Map<string, Promise<Machine[]>>();
  /** Record writes per instance, one at a time. */
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(private readonly options: LocalProcessProviderOptions) {
    this.registry = new InstanceRegistry(options.stateDir);
    this.host = options.host ?? '127.0.0.1';
    this.graceMs = options.terminateGraceMs ?? 5_000;
  }

  async launch(request: LaunchRequest): Promise<Machine[]> {
    const pending = this.launching.get(request.idempotencyToken);
    if (pending) return pending;
    const launch = this.launchOnce(request).finally(() => this.launching.delete(request.idempotencyToken));
    this.launching.set(request.idempotencyToken, launch);
    return launch;
  }

  private async launchOnce(request: LaunchRequest): Promise<Machine[]> {
    const earlier = (await this.registry.list()).filter(
      (record) => record.idempotencyToken === request.idempotencyToken,
    );
    if (earlier.length > 0) return this.describe(earlier.map((record) => record.id));

    const spec = (this.options.processSpec ?? kindProcessOf)(request);
    const started: InstanceRecord[] = [];
    try {
      for (let i = 0; i < request.count; i++) {
        const record = await this.spawnInstance(request, spec, request.firstIndex + i);
        started.push(record);
        if (spec.reportsPorts) started[i] = await this.awaitPorts(record, spec.reportsPorts);
      }
    } catch (error) {
      // A retry with the same token must start afresh, not find half a launch.
      await this.terminate(started.map((record) => record.id));
      await Promise.all(started.map((record) => this.registry.remove(record.id)));
      throw error;
    }
    return started.map((record) => toMachine(record, 'running'));
  }

  private async spawnInstance(
    request: LaunchRequest,
    spec: ProcessSpec,
    index: number,
  ): Promise<InstanceRecord> {
    const id = `i-local-${randomBytes(6).toString('hex')}`;
    const workDir = join(this.options.stateDir, 'work', id);
    const logFile = join(this.options.stateDir, 'logs', `${id}.log`);
    await mkdir(workDir, { recursive: true });
    await mkdir(join(this.options.stateDir, 'logs'), { recursive: true });

    const program = this.options.programs[spec.program];
    if (program === undefined) {
      throw new ProvisioningError(
        `Cannot start the ${request.role}: no ${spec.program} program is configured.`,
      );
    }
    const commandTemplate = [program, ...spec.args];
    const command = fillIn(commandTemplate, this.host, workDir, {});
    const processDir = spec.folder === undefined ? undefined : folderIn(workDir, spec.folder);
    if (processDir) await mkdir(processDir, { recursive: true });
    const env = spec.env ? fillInValues(spec.env, this.host, workDir) : undefined;
    const secretEnv = spec.secretEnv ? { ...spec.secretEnv } : undefined;
    const { pid, startTicks } = await this.spawnProcess(id, command, {
      cwd: processDir ?? workDir,
      logFile,
      env: { ...env, ...(await this.readSecrets(request.role, secretEnv)) },
    });
    const record: InstanceRecord = {
      id,
      clusterId: request.clusterId,
      clusterName: request.clusterName,
      owner: request.owner,
      role: request.role,
      index,
      idempotencyToken: request.idempotencyToken,
      ...leaseOf(pid, startTicks),
      ports: {},
      command,
      commandTemplate,
      logFile,
      workDir,
      ...(processDir ? { processDir } : {}),
      ...(env ? { env } : {}),
      ...(secretEnv ? { secretEnv } : {}),
      host: this.host,
      launchedAt: new Date().toISOString(),
      state: 'running',
    };
    await this.write(id, () => this.registry.save(record));
    this.watchExit(id);
    return record;
  }

  /** The values of the secrets a process's environment names; a missing one fails the start. */
  private async readSecrets(
    role: string,
    secretEnv: Readonly<Record<string, string>> | undefined,
  ): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const [variable, name] of Object.entries(secretEnv ?? {})) {
      const value = await this.options.secrets?.read(name);
      if (value === undefined) {
        throw new ProvisioningError(
          `Cannot start the ${role}: its secret ${name} (for ${variable}) is not stored.`,
        );
      }
      values[variable] = value;
    }
    return values;
  }

  /** Spawns the instance's process group, tied to this process, its output appended to its log. */
  private async spawnProcess(
    id: string,
    command: string[],
    where: { cwd: string; logFile: string; env: Readonly<Record<string, string>> },
  ): Promise<{ pid: number; startTicks: number }> {
    const log = openSync(where.logFile, 'a');
    let child: ChildProcess;
    let startTicks: number | undefined;
    try {
      // Tied to this process: a control plane killed with SIGKILL takes its instances with it.
      child = spawnTied(command, {
        cwd: where.cwd,
        output: log,
        env: { ...process.env, ...where.env, [INSTANCE_ENV_VAR]: id },
      });
      // Read at once: a process that dies straight away must still be told apart from a recycled pid.
      if (child.pid !== undefined) startTicks = readProcStartTicks(child.pid);
      await spawned(child, command[0] as string);
    } finally {
      closeSync(log);
    }
    this.children.set(id, child);
    return { pid: child.pid as number, startTicks: startTicks ?? 0 };
  }

  /** Records the exit status of the instance's current process, once it ends. */
  private watchExit(id: string): void {
    const child = this.children.get(id);
    child?.once('exit', (code, signal) => {
      this.write(id, async () => {
        const current = await this.registry.load(id);
        // A restarted instance runs another process by now: this exit is not its.
        if (current && current.pid === child.pid) {
          await this.registry.save({ ...current, exitCode: code, exitSignal: signal });
        }
      }).catch(() => {});
    });
  }

  /**
   * Starts each instance's process again, in place: its group ended, the
   * same command started with the ports it reported (so whoever found it
   * finds it again), and waits until it listens on them. The instance keeps
   * its id, address and work folder.
   */
  async restart(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.restartOne(id)));
  }

  private async restartOne(id: string): Promise<void> {
    const record = await this.registry.load(id);
    if (record?.state !== 'running') {
      throw new ProvisioningError(`Instance ${id} is ${record?.state ?? 'unknown'}: it cannot be restarted.`);
    }
    if (!(await killGroup(record.pgid, record.procStartTicks, this.graceMs))) {
      throw new ProvisioningError(`Instance ${id} (process group ${record.pgid}) survived SIGKILL.`);
    }
    this.children.delete(id);
    const restartedAt = new Date().toISOString();
    appendFileSync(record.logFile, `\n--- bilbo: restarted at ${restartedAt}\n`);
    const command = fillIn(
      record.commandTemplate ?? record.command,
      record.host,
      record.workDir,
      record.ports,
    );
    const { pid, startTicks } = await this.spawnProcess(id, command, {
      cwd: record.processDir ?? record.workDir,
      logFile: record.logFile,
      env: { ...record.env, ...(await this.readSecrets(record.role, record.secretEnv)) },
    });
    const restarted: InstanceRecord = {
      ...record,
      ...leaseOf(pid, startTicks),
      command,
      restartedAt,
      exitCode: undefined,
      exitSignal: undefined,
    };
    await this.write(id, () => this.registry.save(restarted));
    this.watchExit(id);
    await this.awaitListening(restarted);
  }

  /** Waits until the restarted process listens on every port its record names. */
  private async awaitListening(record: InstanceRecord): Promise<void> {
    const timeoutMs = this.options.portsReportTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    const ports = Object.values(record.ports);
    for (;;) {
      if (ports.every((port) => groupListensOn(record.pgid, port))) return;
      const ended = !isProcessAlive(record.pid, record.procStartTicks);
      if (ended || Date.now() >= deadline) {
        const tail = await logTail(record.logFile, LOG_TAIL_LINES);
        const why = ended
          ? 'ended before it listened again'
          : `did not listen on ports ${ports.join(', ')} again within ${timeoutMs} ms`;
        throw new ProvisioningError(
          `The restarted ${record.role} ${record.id} ${why}${tail ? `; last log lines: ${tail.join(' | ')}` : ''}`,
        );
      }
      await sleep(PORTS_REPORT_POLL_MS);
    }
  }

  /**
   * Waits until the process has written the ports it listens on, and
   * records them. A process that ends first, or takes too long, fails the
   * launch with its log's last lines.
   */
  private async awaitPorts(record: InstanceRecord, report: PortsReport): Promise<InstanceRecord> {
    const timeoutMs = this.options.portsReportTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ports = await reportedPorts(record, report);
      if (ports) {
        const listening = { ...record, ports };
        await this.write(record.id, () => this.registry.save(listening));
        return listening;
      }
      const ended = !isProcessAlive(record.pid, record.procStartTicks);
      if (ended || Date.now() >= deadline) {
        const tail = await logTail(record.logFile, LOG_TAIL_LINES);
        const why = ended
          ? 'ended before it listened'
          : `did not say which ports it listens on within ${timeoutMs} ms`;
        throw new ProvisioningError(
          `The ${record.role} ${record.id} ${why}${tail ? `; last log lines: ${tail.join(' | ')}` : ''}`,
        );
      }
      await sleep(PORTS_REPORT_POLL_MS);
    }
  }

  async describe(ids: readonly string[]): Promise<Machine[]> {
    return Promise.all(ids.map((id) => this.describeOne(id)));
  }

  private async describeOne(id: string): Promise<Machine> {
    const record = await this.registry.load(id);
    if (record === undefined) return unseenMachine(id, 'unknown instance');
    if (record.state === 'terminated') return toMachine(record, 'terminated');
    if (isProcessAlive(record.pid, record.procStartTicks)) {
      return toMachine(record, groupStopped(record.pgid, record.procStartTicks) ? 'stopped' : 'running');
    }
    const ended = await this.markEnded(record);
    return toMachine(ended, 'terminated');
  }

  /** Records that a process died on its own, with its exit status and the tail of its log. */
  private async markEnded(record: InstanceRecord): Promise<InstanceRecord> {
    const exit = await this.exitStatus(record);
    const status =
      exit.exitCode != null
        ? `exited with code ${exit.exitCode}`
        : exit.exitSignal
          ? `killed by ${exit.exitSignal}`
          : 'exited';
    const tail = await logTail(record.logFile, LOG_TAIL_LINES);
    const ended: InstanceRecord = {
      ...record,
      ...exit,
      state: 'terminated',
      endedAt: new Date().toISOString(),
      stateReason: tail ? `${status}; last log lines: ${tail.join(' | ')}` : status,
    };
    await this.write(record.id, () => this.registry.save(ended));
    return ended;
  }

  private async exitStatus(record: InstanceRecord): Promise<Pick<InstanceRecord, 'exitCode' | 'exitSignal'>> {
    const child = this.children.get(record.id);
    if (child && child.exitCode === null && child.signalCode === null) {
      // Dead but not yet reaped: its exit event is on its way.
      await Promise.race([once(child, 'exit'), sleep(EXIT_STATUS_WAIT_MS)]);
    }
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      return { exitCode: child.exitCode, exitSignal: child.signalCode };
    }
    const saved = await this.registry.load(record.id);
    return { exitCode: saved?.exitCode ?? null, exitSignal: saved?.exitSignal ?? null };
  }

  /**
   * Stops each instance's processes (SIGSTOP): they keep their memory, state
   * and ports and get no CPU, and their group stays tied to this process.
   */
  async stop(ids: readonly string[]): Promise<void> {
    await this.signalLive(ids, (record) => stopGroup(record.pgid, record.procStartTicks), 'stopped');
  }

  /** Continues each stopped instance's processes (SIGCONT). */
  async start(ids: readonly string[]): Promise<void> {
    await this.signalLive(ids, (record) => signalGroup(record.pgid, 'SIGCONT'), 'running');
  }

  private async signalLive(
    ids: readonly string[],
    signal: (record: InstanceRecord) => void,
    state: 'running' | 'stopped',
  ): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const record = await this.registry.load(id);
        if (!record || record.state === 'terminated' || !isProcessAlive(record.pid, record.procStartTicks))
          return;
        signal(record);
        await this.write(id, async () => {
          const current = await this.registry.load(id);
          if (current && current.state !== 'terminated') await this.registry.save({ ...current, state });
        });
      }),
    );
  }

  async terminate(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.terminateOne(id)));
  }

  private async terminateOne(id: string): Promise<void> {
    const record = await this.registry.load(id);
    if (!record) return;
    // Even a record already marked terminated may have stray group members left.
    const gone = await killGroup(record.pgid, record.procStartTicks, this.graceMs);
    if (!gone) {
      throw new ProvisioningError(`Instance ${id} (process group ${record.pgid}) survived SIGKILL.`);
    }
    if (record.state === 'terminated') return;
    const exit = await this.exitStatus(record);
    await this.write(id, async () => {
      const current = (await this.registry.load(id)) ?? record;
      await this.registry.save({
        ...current,
        ...exit,
        state: 'terminated',
        endedAt: new Date().toISOString(),
        stateReason: 'terminated on request',
      });
    });
    this.children.delete(id);
  }

  async findByCluster(clusterId: string): Promise<Machine[]> {
    const records = (await this.registry.list()).filter(
      (record) => record.clusterId === clusterId && record.state !== 'terminated',
    );
    const machines = await this.describe(records.map((record) => record.id));
    return machines.filter((machine) => machine.state !== 'terminated');
  }

  /**
   * Every record in this home whose process still runs (or is stopped),
   * whoever launched it: one plane per home, so all are this deployment's,
   * a leftover of a crashed run included.
   */
  async findManaged(): Promise<ManagedMachine[]> {
    const records = (await this.registry.list()).filter((record) => record.state !== 'terminated');
    const launched = new Map(records.map((record) => [record.id, record.launchedAt]));
    const machines = await this.describe(records.map((record) => record.id));
    return machines
      .filter((machine) => machine.state !== 'terminated')
      .map(({ id, clusterId, role, state }) => ({
        id,
        clusterId,
        role,
        state,
        launchedAt: launched.get(id)!,
      }));
  }

  /** Removes the records of terminated instances; a record whose process may still run is kept. */
  async forget(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map((id) =>
        this.write(id, async () => {
          if ((await this.registry.load(id))?.state === 'terminated') await this.registry.remove(id);
        }),
      ),
    );
  }

  private write<T>(id: string, action: () => Promise<T>): Promise<T> {
    const previous = this.writes.get(id) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(action);
    this.writes.set(id, next);
    return next;
  }
}

function toMachine(record: InstanceRecord, state: Machine['state']): Machine {
  const machine: Machine = {
    id: record.id,
    clusterId: record.clusterId,
    role: record.role,
    index: record.index,
    state,
    privateIp: record.host,
    ports: { ...record.ports },
  };
  if (state === 'terminated' && record.stateReason) machine.stateReason = record.stateReason;
  return machine;
}

/** The ports a process reported so far: in its file, or the one port its group listens on. */
async function reportedPorts(
  record: InstanceRecord,
  report: PortsReport,
): Promise<Record<string, number> | undefined> {
  if ('listening' in report) {
    const listening = groupListeningPorts(record.pgid);
    return listening.length === 1 ? { [report.listening]: listening[0] as number } : undefined;
  }
  return report.parse(await readFile(join(record.workDir, report.file), 'utf8').catch(() => ''));
}

/** A folder inside the instance's own: relative, never climbing out of it. */
function folderIn(workDir: string, folder: string): string {
  if (isAbsolute(folder) || folder.split(/[\\/]/).includes('..')) {
    throw new Error(`a process folder must stay inside the instance's folder, not ${folder}`);
  }
  return join(workDir, folder);
}

function fillInValues(
  values: Readonly<Record<string, string>>,
  host: string,
  workDir: string,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, fillIn([value], host, workDir, {})[0] as string]),
  );
}

/** The arguments, with `{host}`, `{workdir}` and `{port:NAME}` filled in (port 0 for one not in `ports`: the process picks). */
export function fillIn(
  args: readonly string[],
  host: string,
  workDir: string,
  ports: Readonly<Record<string, number>>,
): string[] {
  return args.map((arg) =>
    arg
      .replaceAll('{host}', host)
      .replaceAll('{workdir}', workDir)
      .replace(/\{port:([A-Za-z0-9_-]+)\}/g, (_, name: string) => String(ports[name] ?? 0)),
  );
}

function spawned(child: ChildProcess, program: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (error) =>
      reject(new ProvisioningError(`Cannot start ${program}: ${error.message}`, { cause: error })),
    );
  });
}

async function logTail(file: string, lines: number): Promise<string[] | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    const tail = text
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line.length > 0)
      .slice(-lines);
    return tail.length > 0 ? tail : undefined;
  } catch {
    return undefined;
  }
}
