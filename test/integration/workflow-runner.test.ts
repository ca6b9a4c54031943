import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Handler, type HistoryEvent, LocalWorkflowRunner } from '../../cli/local/workflow-runner.ts';
import { InitCommandFailedError, ReadyTimeoutError } from '../../lambdas/domain/errors.ts';
import type { TaskName } from '../../lambdas/handlers/tasks/task-names.ts';

const PRIMARY = { primaryAddress: 'tcp://10.0.0.5:8786' };

type Fake = (payload: Record<string, unknown>) => unknown;

/** Canned domain answers per task; each test replaces what it needs. */
let fakes: Record<TaskName, Fake>;
/** Every handler call, in order: which task, with which payload. */
let calls: Array<{ task: TaskName; payload: Record<string, unknown> }>;

function answers(...values: unknown[]): Fake {
  let call = 0;
  return () => values[Math.min(call++, values.length - 1)];
}

const handlers =
  (task: TaskName): Handler =>
  async (event: Record<string, unknown>) => {
    calls.push({ task, payload: event });
    return fakes[task](event);
  };

function tasksEntered(history: readonly HistoryEvent[]): string[] {
  return history.flatMap((event) =>
    event.type === 'StateEntered' && event.state.type === 'Task' ? [event.state.name] : [],
  );
}

function lastStateEntered(history: readonly HistoryEvent[]): string | undefined {
  return history.filter((event) => event.type === 'StateEntered').at(-1)?.state.name;
}

describe('LocalWorkflowRunner', () => {
  let runner: LocalWorkflowRunner;
  const ended = vi.fn();

  beforeAll(async () => {
    runner = new LocalWorkflowRunner({
      handlers,
      waitOverrideMs: 0,
      retryOverrideMs: 0,
      onExecutionEnd: ended,
    });
  });

  beforeEach(() => {
    calls = [];
    ended.mockClear();
    fakes = {
      launchRole: ({ role }) =>
        role === 'scheduler' ? { ...PRIMARY, machineIds: ['m-scheduler'] } : { machineIds: [`m-${role}`] },
      checkMachines: () => ({ done: true, running: 3, total: 3, waitSeconds: 1 }),
      probeReady: () => ({
        ready: true,
        dashboardUp: true,
        workersJoined: 2,
        wantedWorkers: 2,
      }),
      runInit: ({ position }) => ({ done: true, position: position ?? 0, waitSeconds: 0 }),
      recordReady: () => ({ state: 'READY' }),
      rollbackCreate: () => ({ terminated: 3 }),
      terminateMachines: () => ({ terminated: 3 }),
      recordDestroyed: () => ({ state: 'DESTROYED' }),
      recordDestroyFailed: () => ({ state: 'FAILED' }),
      restartRole: ({ role }) => ({ ticketId: `ticket-${role}` }),
      checkRestart: () => ({ done: true, waitSeconds: 1 }),
      recordRestarted: () => ({ state: 'READY', seconds: 3 }),
      recordRestartFailed: () => ({ state: 'FAILED' }),
      stopMachines: () => ({ stopping: 3 }),
      recordPaused: () => ({ state: 'PAUSED', seconds: 2 }),
      recordPauseFailed: () => ({ state: 'RESUMING', since: '2026-01-01T00:00:10.000Z' }),
      startMachines: () => ({ starting: 3 }),
      recordResumed: () => ({ state: 'READY', seconds: 3 }),
      recordResumeFailed: () => ({ state: 'PAUSED' }),
      sweep: ({ dryRun }) => ({ dryRun, checked: 2, actions: [] }),
    };
  });

  describe('the create workflow', () => {
    it('runs every step in order to Created', async () => {
      fakes.checkMachines = answers(
        { done: false, running: 1, total: 3, waitSeconds: 1 },
        { done: true, running: 3, total: 3, waitSeconds: 1 },
      );
      fakes.probeReady = answers(
        { ready: false, dashboardUp: true, workersJoined: 1, wantedWorkers: 2 },
        { ready: true, dashboardUp: true, workersJoined: 2, wantedWorkers: 2 },
      );

      const arn = await runner.start('create', 'c-1-create', {
        clusterId: 'c-1',
        primaryRole: 'scheduler',
        memberRoles: ['worker', 'notebook'],
      });
      await runner.waitForIdle();

      expect(runner.execution(arn)).toMatchObject({
        status: 'SUCCEEDED',
        workflow: 'create',
        name: 'c-1-create',
      });
      expect(tasksEntered(runner.history(arn))).toEqual([
        'LaunchPrimary',
        'LaunchMember',
        'LaunchMember',
        'CheckRunning',
        'CheckRunning',
        'ProbeReady',
        'CheckRunning',
        'ProbeReady',
        'StartInit',
        'RecordReady',
      ]);
      expect(lastStateEntered(runner.history(arn))).toBe('Created');
    });

    it('launches the scheduler first, then each member role with the scheduler address', async () => {
      const arn = await runner.start('create', 'c-2-create', {
        clusterId: 'c-2',
        primaryRole: 'scheduler',
        memberRoles: ['worker', 'notebook'],
      });
      await runner.waitForIdle();

      const launches = calls.filter((call) => call.task === 'launchRole').map((call) => call.payload);
      expect(runner.execution(arn)?.status).toBe('SUCCEEDED');
      expect(launches).toEqual([
        { clusterId: 'c-2', role: 'scheduler' },
        { clusterId: 'c-2', role: 'worker', primaryAddress: PRIMARY.primaryAddress },
        { clusterId: 'c-2', role: 'notebook', primaryAddress: PRIMARY.primaryAddress },
      ]);
    });

    it('asks for running machines, then probes and records the cluster by id', async () => {
      await runner.start('create', 'c-3-create', {
        clusterId: 'c-3',
        primaryRole: 'scheduler',
        memberRoles: ['worker'],
      });
      await runner.waitForIdle();

      expect(calls.slice(2).map(({ task, payload }) => [task, payload])).toEqual([
        ['checkMachines', { clusterId: 'c-3', want: 'running' }],
        ['probeReady', { clusterId: 'c-3' }],
        ['runInit', { clusterId: 'c-3' }],
        ['recordReady', { clusterId: 'c-3' }],
      ]);
    });

    it('looks at the init commands until they are done, from the position the last look gave, then records READY', async () => {
      fakes.runInit = answers(
        { done: false, position: 0, waitSeconds: 1 },
        { done: false, position: 2, waitSeconds: 1 },
        { done: true, position: 3, waitSeconds: 0 },
      );

      const arn = await runner.start('create', 'c-16-create', {
        clusterId: 'c-16',
        primaryRole: 'scheduler',
        memberRoles: ['worker'],
      });
      await runner.waitForIdle();

      expect(runner.execution(arn)?.status).toBe('SUCCEEDED');
      expect(calls.filter((call) => call.task === 'runInit').map((call) => call.payload)).toEqual([
        { clusterId: 'c-16' },
        { clusterId: 'c-16', position: 0 },
        { clusterId: 'c-16', position: 2 },
      ]);
      expect(tasksEntered(runner.history(arn)).slice(-4)).toEqual([
        'StartInit',
        'RunInit',
        'RunInit',
        'RecordReady',
      ]);
    });

    it('rolls back as init when an init command fails the create, and never records READY', async () => {
      fakes.runInit = (() => {
        let call = 0;
        return () => {
          if (call++ === 0) return { done: false, position: 1, waitSeconds: 1 };
          throw new InitCommandFailedError('init_cmd "exit 3" exited 3 on the scheduler');
        };
      })();

      const arn = await runner.start('create', 'c-17-create', {
        clusterId: 'c-17',
        primaryRole: 'scheduler',
        memberRoles: ['worker'],
      });
      await runner.waitForIdle();

      expect(calls.find((call) => call.task === 'rollbackCreate')?.payload).toEqual({
        clusterId: 'c-17',
        failedStep: 'init',
        error: { Error: 'InitCommandFailedError', Cause: 'init_cmd "exit 3" exited 3 on the scheduler' },
      });
      expect(calls.some((call) => call.task === 'recordReady')).toBe(false);
      expect(runner.execution(arn)).toMatchObject({ status: 'FAILED', error: 'ClusterCreateFailed' });
    });

    it('counts the state transitions of an execution', async () => {
      const arn = await runner.start('create', 'c-4-create', {
        clusterId: 'c-4',
        primaryRole: 'scheduler',
        memberRoles: ['worker'],
      });
      await runner.waitForIdle();

      // LaunchPrimary, LaunchMembersStart, LaunchMembersMore?, LaunchMembersNext, LaunchMember,
      // LaunchMembersAdvance, LaunchMembersMore?, CheckRunning, AllRunning?, ProbeReady, Ready?,
      // StartInit, InitDone? (a profile without init commands: one look, done), RecordReady, Created
      expect(runner.stateTransitions(arn)).toBe(15);
    });

    it('rolls back with the failed step and the error when a step throws, and fails the execution', async () => {
      fakes.probeReady = () => {
        throw new ReadyTimeoutError('2 of 3 workers joined within 600 s');
      };

      const arn = await runner.start('create', 'c-5-create', {
        clusterId: 'c-5',
        primaryRole: 'scheduler',
        memberRoles: ['worker'],
      });
      await runner.waitForIdle();

      const rollback = calls.filter((call) => call.task === 'rollbackCreate');
      expect(rollback.map((call) => call.payload)).toEqual([
        {
          clusterId: 'c-5',
          failedStep: 'probe-ready',
          error: { Error: 'ReadyTimeoutError', Cause: '2 of 3 workers joined within 600 s' },
        },
      ]);
      expect(calls.some((call) => call.task === 'recordReady')).toBe(false);
      expect(runner.execution(arn)).toMatchObject({
        status: 'FAILED',
        error: 'ClusterCreateFailed',
        cause: '2 of 3 workers joined within 600 s',
      });
      expect(ended).toHaveBeenCalledWith(expect.objectContaining({ executionArn: arn, status: 'FAILED' }));
    });

    it('names a failed primary launch after the primary role', async () => {
      fakes.launchRole = ({ role }) => {
        if (role === 'scheduler') throw new Error('no capacity for the scheduler');
        return { machineIds: [`m-${role}`] };
      };

      await runner.start('create', 'c-14-create', {
        clusterId: 'c-14',
        primaryRole: 'scheduler',
        memberRoles: ['worker'],
      });
      await runner.waitForIdle();

      const rollback = calls.find((call) => call.task === 'rollbackCreate');
      expect(rollback?.payload).toMatchObject({ failedStep: 'launch-scheduler' });
    });

    it('rolls back a member launch that fails inside the map as launch-members', async () => {
      fakes.launchRole = ({ role }) => {
        if (role === 'notebook') throw new Error('no capacity for the notebook');
        return { ...PRIMARY, machineIds: [`m-${role}`] };
      };

      await runner.start('create', 'c-6-create', {
        clusterId: 'c-6',
        primaryRole: 'scheduler',
        memberRoles: ['worker', 'notebook'],
      });
      await runner.waitForIdle();

      const rollback = calls.find((call) => call.task === 'rollbackCreate');
      expect(rollback?.payload).toMatchObject({ failedStep: 'launch-members', error: { Error: 'Error' } });
    });

    it('launches no role after a member launch failed, and rolls back only once the launches stopped', async () => {
      fakes.launchRole = ({ role }) => {
        if (role === 'worker') throw new Error('no capacity for the workers');
        return { ...PRIMARY, machineIds: [`m-${role}`] };
      };

      await runner.start('create', 'c-15-create', {
        clusterId: 'c-15',
        primaryRole: 'scheduler',
        memberRoles: ['worker', 'notebook'],
      });
      await runner.waitForIdle();

      const order = calls.map((call) =>
        call.task === 'launchRole' ? `launch ${call.payload.role}` : call.task,
      );
      expect(order).toEqual(['launch scheduler', 'launch worker', 'rollbackCreate']);
    });

    it('ends FAILED, without an unhandled rejection, when the rollback itself keeps failing', async () => {
      fakes.launchRole = () => {
        throw new Error('launch refused');
      };
      fakes.rollbackCreate = () => {
        throw new Error('store unreachable');
      };

      const arn = await runner.start('create', 'c-7-create', {
        clusterId: 'c-7',
        primaryRole: 'scheduler',
        memberRoles: ['worker'],
      });
      await runner.waitForIdle();

      expect(calls.filter((call) => call.task === 'rollbackCreate')).toHaveLength(4);
      expect(runner.execution(arn)).toMatchObject({
        status: 'FAILED',
        error: 'Error',
        cause: 'store unreachable',
      });
      expect(ended).toHaveBeenCalledTimes(1);
    });
  });

  describe('the destroy workflow', () => {
    it('checks the machines until they are gone, then records the cluster destroyed', async () => {
      fakes.checkMachines = answers(
        { done: false, running: 2, total: 2, waitSeconds: 1 },
        { done: false, running: 1, total: 2, waitSeconds: 1 },
        { done: true, running: 0, total: 2, waitSeconds: 1 },
      );

      const arn = await runner.start('destroy', 'c-8-destroy-v3', {
        clusterId: 'c-8',
        requestedAt: '2026-01-01T00:00:00.000Z',
      });
      await runner.waitForIdle();

      expect(runner.execution(arn)?.status).toBe('SUCCEEDED');
      expect(tasksEntered(runner.history(arn))).toEqual([
        'TerminateMachines',
        'CheckTerminated',
        'CheckTerminated',
        'CheckTerminated',
        'RecordDestroyed',
      ]);
      expect(calls.find((call) => call.task === 'checkMachines')?.payload).toEqual({
        clusterId: 'c-8',
        want: 'terminated',
        since: '2026-01-01T00:00:00.000Z',
      });
    });

    it('records the failed step when termination keeps failing', async () => {
      fakes.terminateMachines = () => {
        throw new Error('terminate refused');
      };

      const arn = await runner.start('destroy', 'c-9-destroy-v3', {
        clusterId: 'c-9',
        requestedAt: '2026-01-01T00:00:00.000Z',
      });
      await runner.waitForIdle();

      expect(calls.filter((call) => call.task === 'terminateMachines')).toHaveLength(4);
      expect(calls.find((call) => call.task === 'recordDestroyFailed')?.payload).toEqual({
        clusterId: 'c-9',
        failedStep: 'terminate-machines',
        error: { Error: 'Error', Cause: 'terminate refused' },
      });
      expect(runner.execution(arn)).toMatchObject({ status: 'FAILED', error: 'ClusterDestroyFailed' });
    });
  });

  describe('the sweep workflow', () => {
    it('hands the whole input to the sweep step and ends with its report as the output', async () => {
      const arn = await runner.start('sweep', 'sweep-0000000000000001', { dryRun: true, requestedBy: 'ann' });
      await runner.waitForIdle();

      expect(tasksEntered(runner.history(arn))).toEqual(['Sweep']);
      expect(calls).toEqual([{ task: 'sweep', payload: { dryRun: true, requestedBy: 'ann' } }]);
      expect(await runner.describe('sweep', 'sweep-0000000000000001')).toEqual({
        status: 'SUCCEEDED',
        output: { dryRun: true, checked: 2, actions: [] },
      });
    });

    it('describes a failed sweep with its error, and knows no sweep it never started', async () => {
      fakes.sweep = () => {
        throw new Error('the table is gone');
      };

      await runner.start('sweep', 'sweep-0000000000000002', { dryRun: false });
      await runner.waitForIdle();

      expect(await runner.describe('sweep', 'sweep-0000000000000002')).toEqual({
        status: 'FAILED',
        error: 'Error: the table is gone',
      });
      expect(await runner.describe('sweep', 'sweep-00000000000000ff')).toBeUndefined();
    });

    it('tells when an execution ended, with its summary', async () => {
      const arn = await runner.start('sweep', 'sweep-0000000000000003', { dryRun: false });

      expect(await runner.ended(arn)).toMatchObject({ status: 'SUCCEEDED', output: { checked: 2 } });
      expect(await runner.ended('arn:aws:states:local:000000000000:execution:sweep:unknown')).toBeUndefined();
    });
  });

  describe('start', () => {
    it('returns a local execution ARN and lists the execution as running until it ends', async () => {
      fakes.terminateMachines = () => new Promise((resolve) => setImmediate(resolve, {}));

      const arn = await runner.start('destroy', 'c-10-destroy-v2', {
        clusterId: 'c-10',
        requestedAt: '2026-01-01T00:00:00.000Z',
      });

      expect(arn).toBe('arn:aws:states:local:000000000000:execution:destroy:c-10-destroy-v2');
      expect(runner.executions()).toContainEqual(
        expect.objectContaining({ executionArn: arn, status: 'RUNNING' }),
      );
      await runner.waitForIdle();
      expect(runner.execution(arn)?.status).toBe('SUCCEEDED');
    });

    it('returns the existing execution for a name that already ran, without running it again', async () => {
      const first = await runner.start('destroy', 'c-11-destroy-v2', {
        clusterId: 'c-11',
        requestedAt: '2026-01-01T00:00:00.000Z',
      });
      await runner.waitForIdle();
      const second = await runner.start('destroy', 'c-11-destroy-v2', {
        clusterId: 'c-11',
        requestedAt: '2026-01-01T00:00:00.000Z',
      });
      await runner.waitForIdle();

      expect(second).toBe(first);
      expect(calls.filter((call) => call.task === 'terminateMachines')).toHaveLength(1);
    });
  });

  describe('abortAll', () => {
    it('ends the running executions ABORTED', async () => {
      fakes.terminateMachines = () => new Promise((resolve) => setImmediate(resolve, {}));

      const arn = await runner.start('destroy', 'c-13-destroy-v2', {
        clusterId: 'c-13',
        requestedAt: '2026-01-01T00:00:00.000Z',
      });
      runner.abortAll();
      await runner.waitForIdle();

      expect(runner.execution(arn)?.status).toBe('ABORTED');
      expect(ended).toHaveBeenCalledWith(expect.objectContaining({ executionArn: arn, status: 'ABORTED' }));
    });
  });

  describe('the restart workflow', () => {
    const input = (clusterId: string) => ({
      clusterId,
      requestedAt: '2026-01-01T00:00:00.000Z',
      roles: ['scheduler', 'worker'] as const,
    });

    it('restarts each role in turn, looking until each is done, then waits for readiness and records READY', async () => {
      fakes.checkRestart = answers({ done: false, waitSeconds: 1 }, { done: true, waitSeconds: 1 });

      const arn = await runner.start('restart', 'c-20-restart-v4', {
        ...input('c-20'),
        roles: ['scheduler', 'worker'],
      });
      await runner.waitForIdle();

      expect(runner.execution(arn)?.status).toBe('SUCCEEDED');
      expect(tasksEntered(runner.history(arn))).toEqual([
        'RestartRole',
        'CheckRestart',
        'CheckRestart',
        'RestartRole',
        'CheckRestart',
        'CheckRunning',
        'ProbeReady',
        'RecordRestarted',
      ]);
      const restarts = calls.filter((call) => call.task !== 'checkMachines' && call.task !== 'probeReady');
      expect(restarts.map(({ task, payload }) => [task, payload])).toEqual([
        ['restartRole', { clusterId: 'c-20', role: 'scheduler', requestedAt: '2026-01-01T00:00:00.000Z' }],
        ['checkRestart', expect.objectContaining({ role: 'scheduler', ticketId: 'ticket-scheduler' })],
        ['checkRestart', expect.objectContaining({ role: 'scheduler', ticketId: 'ticket-scheduler' })],
        ['restartRole', expect.objectContaining({ role: 'worker' })],
        ['checkRestart', expect.objectContaining({ role: 'worker', ticketId: 'ticket-worker' })],
        ['recordRestarted', { clusterId: 'c-20', requestedAt: '2026-01-01T00:00:00.000Z' }],
      ]);
      expect(lastStateEntered(runner.history(arn))).toBe('Restarted');
    });

    it('records a failed restart with the step and the error, and fails the execution when FAILED', async () => {
      fakes.checkRestart = () => {
        throw new Error('the worker services did not restart on i-2: exit code 5');
      };

      const arn = await runner.start('restart', 'c-21-restart-v4', {
        ...input('c-21'),
        roles: ['scheduler'],
      });
      await runner.waitForIdle();

      expect(calls.find((call) => call.task === 'recordRestartFailed')?.payload).toEqual({
        clusterId: 'c-21',
        failedStep: 'restart-services',
        error: { Error: 'Error', Cause: 'the worker services did not restart on i-2: exit code 5' },
      });
      expect(calls.some((call) => call.task === 'recordRestarted')).toBe(false);
      expect(runner.execution(arn)).toMatchObject({ status: 'FAILED', error: 'ClusterRestartFailed' });
    });

    it('ends well when the last look finds the services back', async () => {
      fakes.probeReady = () => {
        throw new ReadyTimeoutError('only 1/2 Dask workers joined within ready_timeout (60 s)');
      };
      fakes.recordRestartFailed = () => ({ state: 'READY' });

      const arn = await runner.start('restart', 'c-22-restart-v4', {
        ...input('c-22'),
        roles: ['scheduler'],
      });
      await runner.waitForIdle();

      expect(calls.find((call) => call.task === 'recordRestartFailed')?.payload).toMatchObject({
        failedStep: 'probe-ready',
      });
      expect(runner.execution(arn)?.status).toBe('SUCCEEDED');
      expect(lastStateEntered(runner.history(arn))).toBe('ServicesBack');
    });
  });

  describe('the interceptor', () => {
    it('sees each task state with its payload and can replace the answer', async () => {
      const seen: string[] = [];
      const intercepting = new LocalWorkflowRunner({
        handlers,
        waitOverrideMs: 0,
        interceptor: async (stateName, payload, next) => {
          seen.push(`${stateName}:${(payload as { clusterId: string }).clusterId}`);
          if (stateName === 'CheckTerminated') return { done: true, running: 0, total: 1, waitSeconds: 1 };
          return next();
        },
      });
      fakes.checkMachines = () => ({ done: false, running: 1, total: 1, waitSeconds: 1 });

      const arn = await intercepting.start('destroy', 'c-12-destroy-v2', {
        clusterId: 'c-12',
        requestedAt: '2026-01-01T00:00:00.000Z',
      });
      await intercepting.waitForIdle();

      expect(intercepting.execution(arn)?.status).toBe('SUCCEEDED');
      expect(seen).toEqual(['TerminateMachines:c-12', 'CheckTerminated:c-12', 'RecordDestroyed:c-12']);
      expect(calls.some((call) => call.task === 'checkMachines')).toBe(false);
    });
  });
});
