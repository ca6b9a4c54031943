import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalPlaneRunningError } from '../../cli/errors.ts';
import { claimFileOf, claimHome } from '../../cli/local/plane-claim.ts';
import { readJsonFile, writeJsonAtomically } from '../../lambdas/adapters/local/process-lease.ts';
import { readProcStartTicks } from '../../lambdas/adapters/local/processes.ts';

const homes: string[] = [];
const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'bilbo-claim-'));
  homes.push(home);
  return home;
}

describe('claimHome', () => {
  it('refuses a home another live plane holds, naming its pid and endpoint', async () => {
    const home = newHome();
    const other = spawn('sleep', ['300'], { stdio: 'ignore' });
    cleanups.push(() => other.kill('SIGKILL'));
    const pid = other.pid as number;
    await writeJsonAtomically(claimFileOf(home), {
      pid,
      startTicks: readProcStartTicks(pid),
      startedAt: new Date().toISOString(),
      endpoint: 'http://127.0.0.1:40123',
    });

    const claiming = claimHome(home);

    await expect(claiming).rejects.toThrow(LocalPlaneRunningError);
    await expect(claiming).rejects.toThrow(
      `another bilbo local (pid ${pid}, at http://127.0.0.1:40123) runs on ${home}`,
    );
    expect((await readJsonFile<{ pid: number }>(claimFileOf(home)))?.pid).toBe(pid);
  });

  it('takes over the claim of a plane that is gone, announces its endpoint, and gives the home up', async () => {
    const home = newHome();
    const gone = spawn('true');
    await once(gone, 'exit');
    await writeJsonAtomically(claimFileOf(home), { pid: gone.pid, startedAt: new Date().toISOString() });

    const claim = await claimHome(home);
    await claim.announce('http://127.0.0.1:40999');

    expect(await readJsonFile(claimFileOf(home))).toMatchObject({
      pid: process.pid,
      endpoint: 'http://127.0.0.1:40999',
    });
    await claim.release();
    expect(existsSync(claimFileOf(home))).toBe(false);
  });
});
