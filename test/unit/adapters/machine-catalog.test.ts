import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalMachineCatalog, threadsPerCoreFrom } from '../../../lambdas/adapters/local/machine-catalog.ts';
import type { ResolvedInstance } from '../../../schemas/types.generated.ts';

const facts = { vcpus: 4, threadsPerCore: 2, memoryMiB: 16_000 };
const bare: ResolvedInstance = { init_cmd: [], tags: [] };

describe('LocalMachineCatalog', () => {
  it('describes any instance type as this machine', async () => {
    const catalog = new LocalMachineCatalog();

    const described = await catalog.describe('m5.xlarge');

    expect(described).toMatchObject({
      name: 'm5.xlarge',
      vcpus: availableParallelism(),
      memoryMiB: Math.floor(totalmem() / 1024 / 1024),
      source: 'this machine',
    });
    expect(described.threadsPerCore).toBeGreaterThanOrEqual(1);
  });

  it('names the machine "local" when the profile names no type', async () => {
    const catalog = new LocalMachineCatalog({ facts });

    expect(await catalog.describe(undefined)).toEqual({ name: 'local', ...facts, source: 'this machine' });
  });

  it('takes threads per core from cpuinfo, and 1 when it cannot read it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bilbo-cpuinfo-'));
    const cpuinfo = join(dir, 'cpuinfo');
    writeFileSync(
      cpuinfo,
      'processor\t: 0\nsiblings\t: 8\ncpu cores\t: 4\n\nprocessor\t: 1\nsiblings\t: 2\ncpu cores\t: 2\n',
    );

    expect((await new LocalMachineCatalog({ cpuinfoPath: cpuinfo }).describe('x')).threadsPerCore).toBe(2);
    expect(
      (await new LocalMachineCatalog({ cpuinfoPath: join(dir, 'missing') }).describe('x')).threadsPerCore,
    ).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });

  it('notes every EC2-only field the profile set, and only those', () => {
    const catalog = new LocalMachineCatalog({ facts });
    const instance: ResolvedInstance = {
      ami: 'ami-123',
      ec2type: 'm5.xlarge',
      keyname: 'mykey',
      security_group: 'sg-1',
      init_cmd: [],
      tags: [['team', 'data']],
    };

    expect(catalog.notes(instance)).toEqual([
      'local provider: instance ami, keyname, security_group, tags are ignored; ' +
        'every role runs as processes on this machine (4 vCPU, 15.6 GiB), whatever its ec2type',
    ]);
  });

  it('notes a single ignored field in the singular', () => {
    const catalog = new LocalMachineCatalog({ facts });

    expect(catalog.notes({ ...bare, keyname: 'mykey' })).toEqual([
      'local provider: instance keyname is ignored; every role runs as processes on this machine (4 vCPU, 15.6 GiB), whatever its ec2type',
    ]);
  });

  it("notes that init_cmd runs as the plane's user, not as root", () => {
    const catalog = new LocalMachineCatalog({ facts });

    expect(catalog.notes({ ...bare, init_cmd: ['pip install x'] })).toEqual([
      'local provider: every role runs as processes on this machine (4 vCPU, 15.6 GiB), whatever its ec2type',
      "local provider: init_cmd runs as you, not as root, in each instance's folder",
    ]);
  });

  it('still notes where the roles run when no EC2-only field is set', () => {
    const catalog = new LocalMachineCatalog({ facts });

    expect(catalog.notes({ ...bare, ec2type: 't3.large' })).toEqual([
      'local provider: every role runs as processes on this machine (4 vCPU, 15.6 GiB), whatever its ec2type',
    ]);
  });
});

describe('threadsPerCoreFrom', () => {
  it('divides siblings by cpu cores of the first processor', () => {
    expect(threadsPerCoreFrom('processor\t: 0\nsiblings\t: 4\ncpu cores\t: 4\n')).toBe(1);
    expect(threadsPerCoreFrom('processor\t: 0\nsiblings\t: 16\ncpu cores\t: 8\n')).toBe(2);
  });

  it('falls back to 1 when the fields are missing', () => {
    expect(threadsPerCoreFrom('processor\t: 0\nmodel name\t: ARM\n')).toBe(1);
    expect(threadsPerCoreFrom('')).toBe(1);
  });
});
