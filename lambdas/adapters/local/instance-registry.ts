/**
 * The local provider's on-disk record of every process it started, one JSON
 * file per instance under `<stateDir>/instances/`. In-memory child handles die
 * with the process that launched them; these records let a later run find
 * and remove what a crashed run left behind.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoleName } from '../../../schemas/types.generated.ts';
import {
  type IsAlive,
  isLeftover,
  type ProcessLease,
  readJsonFile,
  writeJsonAtomically,
} from './process-lease.ts';
import { killGroup } from './processes.ts';

export type { IsAlive };

export type InstanceRecordState = 'running' | 'stopped' | 'terminated';

export interface InstanceRecord extends ProcessLease {
  id: string;
  clusterId: string;
  clusterName: string;
  owner: string;
  role: RoleName;
  index: number;
  idempotencyToken: string;
  ports: Record<string, number>;
  /** The argv that was spawned. */
  command: string[];
  /** The argv before `{port:NAME}` was filled in: a restart fills in the ports the process reported. */
  commandTemplate?: string[];
  logFile: string;
  workDir: string;
  /** Where the process runs, when not in workDir itself (a folder inside it). */
  processDir?: string;
  /** Its environment besides this process's, literally. */
  env?: Record<string, string>;
  /** Environment variables read from secrets at each start, by the secret's name (never the value). */
  secretEnv?: Record<string, string>;
  host: string;
  launchedAt: string;
  /** When its process was last started again, in place. */
  restartedAt?: string;
  state: InstanceRecordState;
  exitCode?: number | null;
  exitSignal?: string | null;
  endedAt?: string;
  stateReason?: string;
}

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
    await writeJsonAtomically(this.fileOf(record.id), record);
  }

  async load(id: string): Promise<InstanceRecord | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    return readJsonFile<InstanceRecord>(this.fileOf(id));
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
  async findLeftovers(isAlive?: IsAlive): Promise<InstanceRecord[]> {
    const records = await this.list();
    return records.filter((record) => isLeftover(record, isAlive));
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
