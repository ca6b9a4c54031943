import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../cli/local/dynamodb-local.ts';
import { leaseOf, writeJsonAtomically } from '../../lambdas/adapters/local/process-lease.ts';
import { groupMembers, readProcStartTicks } from '../../lambdas/adapters/local/processes.ts';
import { waitFor } from '../support/dask-processes.ts';

const folders: string[] = [];
const children: ChildProcess[] = [];
const servers: Server[] = [];

function folder(prefix: string): string {
  const path = mkdtempSync(join(tmpdir(), prefix));
  folders.push(path);
  return path;
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
  }
  for (const server of servers.splice(0)) server.close();
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** Runs test/support/tied-owner.ts and reads the pid of what it started. */
async function startOwner(...args: string[]): Promise<{ owner: ChildProcess; pid: number }> {
  const owner = spawn(
    process.execPath,
    ['--import', './scripts/register.mjs', 'test/support/tied-owner.ts', ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(owner);
  const [line] = (await once(createInterface({ input: owner.stdout as NodeJS.ReadableStream }), 'line')) as [
    string,
  ];
  return { owner, pid: (JSON.parse(line) as { pid: number }).pid };
}

async function killAndWaitForGroup(owner: ChildProcess, pgid: number): Promise<void> {
  expect(groupMembers(pgid).length).toBeGreaterThan(0);
  owner.kill('SIGKILL');
  await waitFor(
    `process group ${pgid} to end with its owner`,
    () => groupMembers(pgid).length === 0 || undefined,
    15_000,
  );
}

describe('processes tied to the control plane', () => {
  it('ends a local Dask scheduler when the process that launched it is killed with SIGKILL', async () => {
    const { owner, pid } = await startOwner('scheduler', folder('bilbo-tied-scheduler-'));
    await killAndWaitForGroup(owner, pid);
  });

  it('ends a paused (stopped) local Dask scheduler when the process that launched it is killed', async () => {
    const { owner, pid } = await startOwner('paused-scheduler', folder('bilbo-tied-paused-'));
    // The scheduler's processes are stopped; the tie (the leader shell and its watcher) is not.
    const states = groupMembers(pid).map((member) => (member.pid === pid ? 'leader' : member.state));
    expect(states).toContain('T');
    expect(states.filter((state) => state !== 'T' && state !== 'leader')).toHaveLength(1);

    await killAndWaitForGroup(owner, pid);
  });

  it('ends DynamoDB Local when the process that started it is killed with SIGKILL', async () => {
    const { owner, pid } = await startOwner('dynamodb', join(folder('bilbo-tied-dynamo-'), 'dynamodb.json'));
    await killAndWaitForGroup(owner, pid);
  });

  it('removes a DynamoDB Local an earlier, crashed run left behind, named by its lease file', async () => {
    const leaseFile = join(folder('bilbo-lease-'), 'dynamodb.json');
    const stray = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    children.push(stray);
    const deadOwner = spawn('true');
    await once(deadOwner, 'exit');
    const pid = stray.pid as number;
    await writeJsonAtomically(leaseFile, {
      ...leaseOf(pid, readProcStartTicks(pid) ?? 0),
      ownerPid: deadOwner.pid,
      ownerStartTicks: undefined,
    });
    const lines: string[] = [];

    const dynamo = await startDynamoDbLocal({ leaseFile, log: (line) => lines.push(line) });
    await dynamo.stop();

    expect(groupMembers(pid)).toEqual([]);
    expect(lines).toEqual([`removed DynamoDB Local (pid ${pid}) left by an earlier run`]);
  });

  it('refuses a port another program answers on instead of talking to that program', async () => {
    // A stand-in that answers every DynamoDB call as an empty database would.
    const impostor = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{"TableNames":[]}');
    });
    servers.push(impostor);
    impostor.listen(0, '127.0.0.1');
    await once(impostor, 'listening');
    const { port } = impostor.address() as { port: number };

    await expect(startDynamoDbLocal({ port })).rejects.toThrow(`port ${port} was taken`);
  });
});
