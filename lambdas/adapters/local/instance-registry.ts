/**
 * The local provider's on-disk record of every process it started, one JSON
 * file per instance under `<stateDir>/instances/`. In-memory child handles die
 * with the process that launched them; these records let a later run find
 * and remove what a crashed run left behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoleName } from '../../../schemas/types.generated.ts';
import { isProcessAlive, killGroup, ownGroupMembers, readProcStartTicks } from './processes.ts';

export type InstanceRecordState = 'running' | 'stopped' | 'terminated';

export interface InstanceRecord {
  id: string;
  clusterId: string;
  clusterName: string;
  owner: string;
  role: RoleName;
  index: number;
  idempotencyToken: string;
  pid: number;
  /** The process group the instance leads (spawned detached, so pgid = pid). */
  pgid: number;
  /** Field 22 of /proc/<pid>/stat at launch, so a recycled pid is never mistaken for ours. */
  procStartTicks: number;
  ports: Record<string, number>;
  /** The argv that was spawned. */
  command: string[];
  logFile: string;
  workDir: string;
  host: string;
  /** The process that launched the instance, and its start time. */
  ownerPid: number;
  ownerStartTicks?: number;
  launchedAt: string;
  state: InstanceRecordState;
  exitCode?: number | null;
  exitSignal?: string | null;
  endedAt?: string;
  stateReason?: string;
}

/** `isAlive(pid, startTicks)`: whether that very process still runs. */
export type IsAlive = (pid: number, startTicks?: number) => boolean;

export interface RemoveLeftoversOptions {
  /** How long the leftovers get between SIGTERM and SIGKILL. @default 5000 */
  graceMs?: number;
  isAlive?: IsAlive;
}

const ID_PATTERN = /^[A-Za-z0-9-]+$/;

export class InstanceRegistry {
  readonly dir: string;

  constructor(readonly stateDir: string) {
    this.dir = join(stateDir, 'instances');
  }

  private fileOf(id: string): string {
    // Ids come from callers; keep them from escaping the folder.
    if (!ID_PATTERN.test(id)) throw new Error(`Not an instance id: ${JSON.stringify(id)}`);
    return join(this.dir, `${id}.json`);
  }

  /** Writes the record atomically: a reader sees the old file or the new one, never half. */
  async save(record: InstanceRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.fileOf(record.id);
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
    await rename(temp, file);
  }

  async load(id: string): Promise<InstanceRecord | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(this.fileOf(id), 'utf8')) as InstanceRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Every record, oldest launch first. */
  async list(): Promise<InstanceRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records = await Promise.all(
      names.filter((name) => name.endsWith('.json')).map((name) => this.load(name.slice(0, -'.json'.length))),
    );
    return records
      .filter((record): record is InstanceRecord => record !== undefined)
      .sort((a, b) => a.launchedAt.localeCompare(b.launchedAt) || a.index - b.index);
  }

  async remove(id: string): Promise<void> {
    await rm(this.fileOf(id), { force: true });
  }

  /**
   * Records whose launching process is gone (and is not this one) while the
   * instance's process still runs: what a crashed run left behind.
   */
  async findLeftovers(isAlive: IsAlive = isProcessAlive): Promise<InstanceRecord[]> {
    const records = await this.list();
    return records.filter((record) => !ownerAlive(record, isAlive) && instanceAlive(record, isAlive));
  }

  /**
   * Kills the process group of every leftover (SIGTERM, then SIGKILL after
   * the grace period) and marks its record terminated. Returns their ids.
   */
  async removeLeftovers(options: RemoveLeftoversOptions = {}): Promise<string[]> {
    const leftovers = await this.findLeftovers(options.isAlive);
    await Promise.all(
      leftovers.map(async (record) => {
        await killGroup(record.pgid, record.procStartTicks, options.graceMs ?? 5_000);
        await this.save({
          ...record,
          state: 'terminated',
          endedAt: new Date().toISOString(),
          stateReason: `removed as a leftover: the process that launched it (pid ${record.ownerPid}) is gone`,
        });
      }),
    );
    return leftovers.map((record) => record.id);
  }
}

function ownerAlive(record: InstanceRecord, isAlive: IsAlive): boolean {
  if (record.ownerPid === process.pid) {
    // Our own pid may be a recycled one of a crashed run's owner.
    return record.ownerStartTicks === undefined || record.ownerStartTicks === readProcStartTicks(process.pid);
  }
  return isAlive(record.ownerPid, record.ownerStartTicks);
}

/** The leader runs, or (the leader died) some process of its group still does. */
function instanceAlive(record: InstanceRecord, isAlive: IsAlive): boolean {
  return (
    isAlive(record.pid, record.procStartTicks) ||
    ownGroupMembers(record.pgid, record.procStartTicks).length > 0
  );
}
