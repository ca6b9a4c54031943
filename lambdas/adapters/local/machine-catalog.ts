/**
 * In local mode an EC2 profile runs unchanged: whatever `ec2type` it names,
 * every role runs as processes on this machine, so its facts are this
 * machine's.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import type { InstanceTypeFacts, ResolvedInstance } from '../../../schemas/types.generated.ts';
import type { InstanceTypeCatalog } from '../../domain/ports.ts';

export type MachineFacts = Pick<InstanceTypeFacts, 'vcpus' | 'threadsPerCore' | 'memoryMiB'>;

export interface LocalMachineCatalogOptions {
  /** This machine's facts, instead of reading them from the OS. */
  facts?: MachineFacts;
  /** @default '/proc/cpuinfo' */
  cpuinfoPath?: string;
}

const MIB = 1024 * 1024;

/** Instance fields that mean something on EC2 and nothing to local processes. */
const IGNORED_FIELDS = [
  'ami',
  'keyname',
  'security_group',
  'vol_size',
  'ssh_user',
  'ssh_private_key',
  'tags',
] as const satisfies readonly (keyof ResolvedInstance)[];

/** `siblings` / `cpu cores` of the first processor in cpuinfo; 1 when unreadable. */
export function threadsPerCoreFrom(cpuinfo: string): number {
  const firstProcessor = cpuinfo.split(/\n\s*\n/)[0] ?? '';
  const field = (name: string): number => {
    const match = new RegExp(`^${name}\\s*:\\s*(\\d+)`, 'm').exec(firstProcessor);
    return match ? Number(match[1]) : Number.NaN;
  };
  const ratio = field('siblings') / field('cpu cores');
  return Number.isFinite(ratio) && ratio >= 1 ? Math.round(ratio) : 1;
}

function readThisMachine(cpuinfoPath: string): MachineFacts {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync(cpuinfoPath, 'utf8');
  } catch {
    // Not Linux, or no /proc: threadsPerCore falls back to 1.
  }
  return {
    vcpus: availableParallelism(),
    threadsPerCore: threadsPerCoreFrom(cpuinfo),
    memoryMiB: Math.floor(totalmem() / MIB),
  };
}

function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  return !Array.isArray(value) || value.length > 0;
}

export class LocalMachineCatalog implements InstanceTypeCatalog {
  private machine: MachineFacts | undefined;

  constructor(private readonly options: LocalMachineCatalogOptions = {}) {
    this.machine = options.facts;
  }

  private facts(): MachineFacts {
    this.machine ??= readThisMachine(this.options.cpuinfoPath ?? '/proc/cpuinfo');
    return this.machine;
  }

  async describe(instanceType: string | undefined): Promise<InstanceTypeFacts> {
    return { name: instanceType || 'local', ...this.facts(), source: 'this machine' };
  }

  notes(instance: ResolvedInstance): string[] {
    const { vcpus, memoryMiB } = this.facts();
    const machine = `every role runs as processes on this machine (${vcpus} vCPU, ${(memoryMiB / 1024).toFixed(1)} GiB), whatever its ec2type`;
    const ignored = IGNORED_FIELDS.filter((field) => isSet(instance[field]));
    // On EC2 root runs them; here nobody may become root for them.
    const init = isSet(instance.init_cmd)
      ? ["local provider: init_cmd runs as you, not as root, in each instance's folder"]
      : [];
    if (ignored.length === 0) return [`local provider: ${machine}`, ...init];
    const verb = ignored.length === 1 ? 'is' : 'are';
    return [`local provider: instance ${ignored.join(', ')} ${verb} ignored; ${machine}`, ...init];
  }
}
