import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localDeploymentId } from '../../../cli/local/deployment-id.ts';

describe("a local plane's deployment id", () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'bilbo-deployment-id-'));
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('is made once per home and kept', async () => {
    const first = await localDeploymentId(home);

    expect(first).toMatch(/^local-[0-9a-f-]{36}$/);
    expect(await localDeploymentId(home)).toBe(first);
    expect((await readFile(join(home, 'deployment-id'), 'utf8')).trim()).toBe(first);
  });

  it('differs between homes', async () => {
    const other = await mkdtemp(join(tmpdir(), 'bilbo-deployment-id-'));
    try {
      expect(await localDeploymentId(other)).not.toBe(await localDeploymentId(home));
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('is the same for two planes asking at once', async () => {
    const ids = await Promise.all([localDeploymentId(home), localDeploymentId(home)]);

    expect(ids[0]).toBe(ids[1]);
  });

  it('replaces a damaged file', async () => {
    await writeFile(join(home, 'deployment-id'), 'true; rm -rf /\n');

    expect(await localDeploymentId(home)).toMatch(/^local-[0-9a-f-]{36}$/);
  });
});
