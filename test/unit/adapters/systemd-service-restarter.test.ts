import { describe, expect, it } from 'vitest';
import { commandIdOf, SystemdServiceRestarter } from '../../../lambdas/adapters/systemd/service-restarter.ts';
import type { InvocationReport, RemoteCommandRunner, RemoteScript } from '../../../lambdas/domain/ports.ts';
import type { ClusterInstance } from '../../../schemas/types.generated.ts';

const WORKERS: ClusterInstance[] = [
  { id: 'i-1', role: 'worker', index: 0, privateIp: '10.0.0.1' },
  { id: 'i-2', role: 'worker', index: 1, privateIp: '10.0.0.2' },
];

/** A RemoteCommandRunner that records what it is sent and answers reads as scripted, per instance. */
function scriptedRunner(reports: Record<string, Partial<InvocationReport>> = {}) {
  const sent: Array<{ commandId: string; instances: string[]; script: RemoteScript }> = [];
  const runner: RemoteCommandRunner = {
    send: async (commandId, instances, script) => {
      sent.push({ commandId, instances: instances.map((instance) => instance.id), script });
      return { providerCommandId: 'ssm-1' };
    },
    read: async (_sent, instance) => ({
      state: 'running',
      stdout: new Uint8Array(),
      stderr: new Uint8Array(),
      totalBytes: { stdout: 0, stderr: 0 },
      ...reports[instance.id],
    }),
    cancel: async () => {},
    reachable: async (instances) => instances.map((instance) => instance.id),
  };
  return { runner, sent };
}

const request = {
  clusterId: 'c-1',
  clusterName: 'analytics',
  kind: 'dask' as const,
  role: 'worker' as const,
  instances: WORKERS,
  restartKey: 'c-1/2026-01-01T00:00:00.000Z/worker',
};

describe('SystemdServiceRestarter', () => {
  it("sends systemctl restart of the role's units, as root, to every instance of the role", async () => {
    const { runner, sent } = scriptedRunner();

    const ticket = await new SystemdServiceRestarter({ commands: runner }).restart(request);

    expect(ticket).toEqual({ id: 'ssm-1' });
    expect(sent).toEqual([
      {
        commandId: commandIdOf(request.restartKey),
        instances: ['i-1', 'i-2'],
        script: {
          script: "systemctl restart -- 'bilbo-worker.service'",
          user: 'root',
          timeoutSeconds: 120,
          comment: 'bilbo restart of the worker services of analytics',
        },
      },
    ]);
    expect(commandIdOf(request.restartKey)).toMatch(/^cmd-[0-9a-f]{16}$/);
    expect(commandIdOf(request.restartKey)).toBe(commandIdOf(request.restartKey));
  });

  it('is done once every instance succeeded, and not before', async () => {
    const succeeded = { state: 'succeeded' as const, exitCode: 0 };
    const restarter = (reports: Record<string, Partial<InvocationReport>>) =>
      new SystemdServiceRestarter({ commands: scriptedRunner(reports).runner });

    expect(await restarter({ 'i-1': succeeded }).progress({ id: 'ssm-1' }, WORKERS)).toEqual({ done: false });
    expect(
      await restarter({ 'i-1': succeeded, 'i-2': succeeded }).progress({ id: 'ssm-1' }, WORKERS),
    ).toEqual({
      done: true,
    });
  });

  it('names the instance, the exit code and the last lines of stderr of a restart that failed', async () => {
    const stderr = new TextEncoder().encode(
      'Job for bilbo-worker.service failed.\nSee "journalctl -xeu bilbo-worker.service" for details.\n',
    );
    const { runner } = scriptedRunner({ 'i-2': { state: 'failed', exitCode: 1, stderr } });

    expect(
      await new SystemdServiceRestarter({ commands: runner }).progress({ id: 'ssm-1' }, WORKERS),
    ).toEqual({
      done: true,
      failure:
        'i-2: the restart ended failed with exit code 1: Job for bilbo-worker.service failed. | See "journalctl -xeu bilbo-worker.service" for details.',
    });
  });

  it('fails a restart whose instance SSM lost', async () => {
    const { runner } = scriptedRunner({ 'i-1': { state: 'lost', reason: 'the SSM agent is not running' } });

    expect(
      (await new SystemdServiceRestarter({ commands: runner }).progress({ id: 'ssm-1' }, WORKERS)).failure,
    ).toBe('i-1: the restart ended lost: the SSM agent is not running');
  });
});
