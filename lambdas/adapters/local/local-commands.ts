/**
 * Remote commands in local mode: each invocation is a bash process in its
 * instance's work folder, in its own process group tied to the control
 * plane (so a plane killed by SIGKILL takes it along), its stdout and
 * stderr in files that reads take bytes from, its end in a third file
 * written when it exits. An invocation with neither a live process nor an
 * end file was lost with a plane that stopped.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { ClusterInstance } from '../../../schemas/types.generated.ts';
import { ValidationError } from '../../domain/errors.ts';
import type {
  InvocationReport,
  OutputOffsets,
  RemoteCommandRunner,
  RemoteScript,
  SecretReader,
  SentCommand,
} from '../../domain/ports.ts';
import type { InstanceRegistry } from './instance-registry.ts';
import { INSTANCE_ENV_VAR } from './process-provider.ts';
import { killGroup, readProcStartTicks, spawnTied } from './processes.ts';

export interface LocalRemoteCommandsOptions {
  /** Where the commands' output lives: `<stateDir>/commands/<command id>/`. */
  stateDir: string;
  /** The local instances, for their work folders. */
  registry: InstanceRegistry;
  /** The Python the instances run: first on the commands' PATH, and `$BILBO_PYTHON`. */
  python: string;
  /** How long a cancelled invocation gets between SIGTERM and SIGKILL. @default 2000 */
  cancelGraceMs?: number;
  /** Where a script's secretEnv is read, by name, when it starts (as an instance reads SSM). */
  secrets?: SecretReader;
}

interface Ending {
  exitCode: number;
  signal?: string;
  state: 'succeeded' | 'failed' | 'cancelled' | 'timed-out';
}

interface Running {
  child: ChildProcess;
  startTicks: number;
  /** Set before the group is killed, so the exit is recorded as what ended it. */
  endedBy?: 'cancelled' | 'timed-out';
  timer: NodeJS.Timeout;
}

const SAFE_ID = /^[A-Za-z0-9-]+$/;
const SAFE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class LocalRemoteCommands implements RemoteCommandRunner {
  private readonly running = new Map<string, Running>();

  constructor(private readonly options: LocalRemoteCommandsOptions) {}

  async send(
    commandId: string,
    instances: readonly ClusterInstance[],
    script: RemoteScript,
  ): Promise<SentCommand> {
    assertSafe(commandId);
    const folder = this.folderOf(commandId);
    const secretEnv = await this.readSecrets(script.secretEnv);
    await mkdir(folder, { recursive: true });
    for (const instance of instances) await this.start(commandId, instance, script, secretEnv);
    return { providerCommandId: commandId };
  }

  /** The values of the secrets a script's environment names; a missing one fails the send. */
  private async readSecrets(secretEnv: RemoteScript['secretEnv']): Promise<Readonly<Record<string, string>>> {
    const values: Record<string, string> = {};
    for (const [variable, name] of Object.entries(secretEnv ?? {})) {
      const value = await this.options.secrets?.read(name);
      if (value === undefined) throw new Error(`its secret ${name} (for ${variable}) is not stored`);
      values[variable] = value;
    }
    return values;
  }

  async read(
    sent: SentCommand,
    instance: ClusterInstance,
    from: OutputOffsets,
    limitBytes: number,
  ): Promise<InvocationReport> {
    const base = this.baseOf(sent.providerCommandId, instance.id);
    const [stdout, stderr] = await Promise.all([
      readFrom(`${base}.out`, from.stdout, limitBytes),
      readFrom(`${base}.err`, from.stderr, limitBytes),
    ]);
    const output = {
      stdout: stdout.bytes,
      stderr: stderr.bytes,
      totalBytes: { stdout: stdout.size, stderr: stderr.size },
    };
    const ending = readEnding(`${base}.exit`);
    if (ending) {
      return {
        ...output,
        state: ending.state,
        exitCode: ending.exitCode,
        ...(ending.signal ? { signal: ending.signal } : {}),
      };
    }
    if (this.running.has(key(sent.providerCommandId, instance.id))) return { ...output, state: 'running' };
    if (!existsSync(`${base}.out`)) {
      return { ...output, state: 'lost', reason: `no trace of it on ${instance.id}` };
    }
    return { ...output, state: 'lost', reason: 'the control plane stopped while it ran' };
  }

  async cancel(sent: SentCommand, instances: readonly ClusterInstance[]): Promise<void> {
    await Promise.all(
      instances.map((instance) => this.stop(sent.providerCommandId, instance.id, 'cancelled')),
    );
  }

  async reachable(instances: readonly ClusterInstance[]): Promise<string[]> {
    const records = await Promise.all(instances.map((instance) => this.options.registry.load(instance.id)));
    return records.flatMap((record) => (record?.state === 'running' ? [record.id] : []));
  }

  /** Ends every invocation still running (the plane is stopping). */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.running.keys()].map((running) => {
        const [commandId, instanceId] = running.split('/') as [string, string];
        return this.stop(commandId, instanceId, 'cancelled');
      }),
    );
  }

  private async start(
    commandId: string,
    instance: ClusterInstance,
    script: RemoteScript,
    secretEnv: Readonly<Record<string, string>>,
  ): Promise<void> {
    assertSafe(instance.id);
    const record = await this.options.registry.load(instance.id);
    if (record?.state !== 'running') {
      throw new ValidationError(`${instance.id} is not running: it cannot run commands`, { field: 'target' });
    }
    const cwd = resolve(record.workDir, script.workdir ?? '');
    if (relative(record.workDir, cwd).startsWith('..')) {
      throw new ValidationError(`workdir: ${script.workdir} is outside the instance's folder`, {
        field: 'workdir',
      });
    }
    await mkdir(cwd, { recursive: true });
    for (const [name, content] of Object.entries(script.files ?? {})) {
      if (!SAFE_FILE.test(name))
        throw new ValidationError(`file name ${JSON.stringify(name)} is not a plain file name`);
      await writeFile(join(cwd, name), content);
    }
    const base = this.baseOf(commandId, instance.id);
    const out = openSync(`${base}.out`, 'a');
    const err = openSync(`${base}.err`, 'a');
    let child: ChildProcess;
    try {
      child = spawnTied(['/bin/bash', '-c', script.script], {
        cwd,
        output: { stdout: out, stderr: err },
        env: {
          ...process.env,
          ...script.env,
          ...secretEnv,
          PATH: `${dirname(this.options.python)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
          BILBO_PYTHON: this.options.python,
          [INSTANCE_ENV_VAR]: instance.id,
        },
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    const id = key(commandId, instance.id);
    const timer = setTimeout(
      () => void this.stop(commandId, instance.id, 'timed-out'),
      script.timeoutSeconds * 1000,
    );
    timer.unref();
    const running: Running = { child, startTicks: (child.pid && readProcStartTicks(child.pid)) || 0, timer };
    this.running.set(id, running);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Written before the invocation stops counting as running: a read never sees neither.
      writeFileSync(`${base}.exit`, JSON.stringify(endingOf(code, signal, running.endedBy)));
      this.running.delete(id);
    });
    child.once('error', () => {});
  }

  private async stop(commandId: string, instanceId: string, why: 'cancelled' | 'timed-out'): Promise<void> {
    const running = this.running.get(key(commandId, instanceId));
    if (!running?.child.pid) return;
    running.endedBy ??= why;
    await killGroup(running.child.pid, running.startTicks, this.options.cancelGraceMs ?? 2_000);
  }

  private folderOf(commandId: string): string {
    return join(this.options.stateDir, 'commands', commandId);
  }

  private baseOf(commandId: string, instanceId: string): string {
    assertSafe(commandId);
    assertSafe(instanceId);
    return join(this.folderOf(commandId), instanceId);
  }
}

function key(commandId: string, instanceId: string): string {
  return `${commandId}/${instanceId}`;
}

function assertSafe(id: string): void {
  if (!SAFE_ID.test(id)) throw new ValidationError(`${JSON.stringify(id)} is not an id`);
}

/** The exit of the tied shell: its status is the command's, 128+N when a signal ended it. */
function endingOf(code: number | null, signal: NodeJS.Signals | null, endedBy: Running['endedBy']): Ending {
  const signalNumber = signal ? constants.signals[signal] : undefined;
  const exitCode = code ?? 128 + (signalNumber ?? 0);
  const byStatus = exitCode > 128 ? signalName(exitCode - 128) : undefined;
  const name = signal ?? byStatus;
  const state = endedBy ?? (exitCode === 0 ? 'succeeded' : 'failed');
  return { exitCode, state, ...(name ? { signal: name } : {}) };
}

function signalName(number: number): string | undefined {
  return Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
}

function readEnding(path: string): Ending | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Ending;
  } catch {
    return undefined;
  }
}

async function readFrom(
  path: string,
  offset: number,
  limit: number,
): Promise<{ bytes: Uint8Array; size: number }> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch {
    return { bytes: new Uint8Array(), size: 0 };
  }
  try {
    const { size } = await file.stat();
    const length = Math.max(0, Math.min(limit, size - offset));
    const buffer = Buffer.alloc(length);
    if (length > 0) await file.read(buffer, 0, length, offset);
    return { bytes: buffer, size };
  } finally {
    await file.close();
  }
}
