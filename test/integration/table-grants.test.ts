/**
 * The clusters table's grants, checked against what the code does: each
 * function's ClusterStore runs on DynamoDB Local through a client that notes
 * the IAM action every call needs (a transaction: one per item), while the
 * API's use cases and every workflow step run their paths, failures
 * included. What each function did must be exactly what the synthesized
 * template grants it: a missing grant fails on AWS only, a spare one is wider
 * than needed.
 */

import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbClusterStore } from '../../lambdas/adapters/dynamodb/cluster-store.ts';
import { DynamoDbCommandStore } from '../../lambdas/adapters/dynamodb/command-store.ts';
import { LIVE_MARKED_KEY } from '../../lambdas/adapters/dynamodb/table-design.ts';
import { LocalPreflight } from '../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import { DESTROY_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import type { ClusterStore, CommandStore, MachineProvider } from '../../lambdas/domain/ports.ts';
import { REAPER_DEFAULTS } from '../../lambdas/domain/reaper/rules.ts';
import { checkMachines } from '../../lambdas/domain/workflow/check-machines.ts';
import {
  recordDestroyed,
  recordDestroyFailed,
  terminateMachines,
} from '../../lambdas/domain/workflow/destroy-steps.ts';
import { launchRole } from '../../lambdas/domain/workflow/launch-role.ts';
import { recordPaused, recordPauseFailed, stopMachines } from '../../lambdas/domain/workflow/pause-steps.ts';
import { probeReady } from '../../lambdas/domain/workflow/probe-ready.ts';
import { recordReady } from '../../lambdas/domain/workflow/record-ready.ts';
import { recordRestarted, recordRestartFailed } from '../../lambdas/domain/workflow/record-restart.ts';
import { checkRestart, restartRole } from '../../lambdas/domain/workflow/restart-role.ts';
import {
  recordResumed,
  recordResumeFailed,
  startMachines,
} from '../../lambdas/domain/workflow/resume-steps.ts';
import { rollbackCreate } from '../../lambdas/domain/workflow/rollback-create.ts';
import { runInit } from '../../lambdas/domain/workflow/run-init.ts';
import { sweep } from '../../lambdas/domain/workflow/sweep.ts';
import { createApiHandler } from '../../lambdas/handlers/api/app.ts';
import { newSecret } from '../../lambdas/handlers/composition/runtime.ts';
import { TASK_NAMES, type TaskName, taskEntry } from '../../lambdas/handlers/tasks/task-names.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { type Synthesized, synthesize } from '../infra/synth.ts';
import { entries, tableActionsOf } from '../infra/template-iam.ts';
import { ADMIN_ROLE_ARN, callApi } from '../support/api-events.ts';
import { RecordingWorkflows } from '../support/api-harness.ts';
import { DASK_PROGRAMS } from '../support/dask-launch.ts';
import { makeTestStore, type TestStore } from '../support/dynamodb.ts';
import { fakeDaskProbe } from '../support/fake-dask-probe.ts';
import { FakeMachineProvider } from '../support/fake-provider.ts';
import { ScriptedRemote } from '../support/fake-remote.ts';
import { FakeServiceRestarter } from '../support/fake-services.ts';

const API = 'lambdas/handlers/api.ts';
const PROFILE = {
  instance: { ec2type: 't3.large', init_cmd: ['true'] },
  dask: { worker: { count: 2, nproc: 1, nthread: 2 } },
};

/** The IAM actions a call needs, each with where: the table, or `/index/<name>`. */
function iamActionsOf(command: unknown): Array<[action: string, where: string]> {
  if (command instanceof GetCommand) return [['dynamodb:GetItem', '']];
  if (command instanceof PutCommand) return [['dynamodb:PutItem', '']];
  if (command instanceof UpdateCommand) return [['dynamodb:UpdateItem', '']];
  if (command instanceof DeleteCommand) return [['dynamodb:DeleteItem', '']];
  if (command instanceof QueryCommand) {
    const index = command.input.IndexName;
    return [['dynamodb:Query', index ? `/index/${index}` : '']];
  }
  if (command instanceof TransactWriteCommand) {
    return (command.input.TransactItems ?? []).map((item) => {
      if (item.Put) return ['dynamodb:PutItem', ''];
      if (item.Update) return ['dynamodb:UpdateItem', ''];
      if (item.Delete) return ['dynamodb:DeleteItem', ''];
      return ['dynamodb:ConditionCheckItem', ''];
    });
  }
  throw new Error(`no IAM action known for ${(command as object).constructor.name}: add it here`);
}

/** As EC2 does, the provider learns a machine's public address once it runs (the check then records the URLs). */
function publicOnceRunning(provider: FakeMachineProvider): MachineProvider {
  return {
    name: provider.name,
    launch: (request) => provider.launch(request),
    describe: async (ids) =>
      (await provider.describe(ids)).map((machine) =>
        machine.state === 'running' ? { ...machine, publicIp: '198.51.100.7' } : machine,
      ),
    stop: (ids) => provider.stop(ids),
    start: (ids) => provider.start(ids),
    terminate: (ids) => provider.terminate(ids),
    findByCluster: (clusterId) => provider.findByCluster(clusterId),
    findManaged: () => provider.findManaged(),
  };
}

let synth: Synthesized;
let testStore: TestStore;
/** entry → resource → actions, as the synthesized template renders resources. */
const used: Record<string, Record<string, Set<string>>> = {};
let tableArn: string;

/** The store the function with this entry builds, noting every action it takes. */
function storeOf(entry: string): ClusterStore {
  return new DynamoDbClusterStore({
    client: notingClient(entry),
    tableName: testStore.tableName,
    clock: testStore.clock,
  });
}

function commandStoreOf(entry: string): CommandStore {
  return new DynamoDbCommandStore({ client: notingClient(entry), tableName: testStore.tableName });
}

function notingClient(entry: string): DynamoDBDocumentClient {
  const noted = used[entry] ?? {};
  used[entry] = noted;
  return {
    send: (command: unknown) => {
      for (const [action, where] of iamActionsOf(command)) {
        const resource = `${tableArn}${where}`;
        noted[resource] = new Set([...(noted[resource] ?? []), action]);
      }
      return testStore.client.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
}

const taskStore = (task: TaskName) => storeOf(taskEntry(task));

/** The workflow's poll loop, a few looks at most. */
async function until(look: () => Promise<{ done: boolean }>): Promise<void> {
  for (let looks = 0; looks < 5; looks++) if ((await look()).done) return;
  throw new Error('still not done after 5 looks');
}

beforeAll(async () => {
  synth = synthesize();
  const tables = Object.keys(synth.template.findResources('AWS::DynamoDB::GlobalTable'));
  tableArn = `<${tables[0]}.Arn>`;
  testStore = await makeTestStore();

  const clock = testStore.clock;
  const provider = new FakeMachineProvider();
  const secrets = new MemorySecretStore();
  const workflows = new RecordingWorkflows();
  let ids = 0;
  const api = createApiHandler({
    newSweepId: () => 'sweep-0000000000000001',
    store: storeOf(API),
    catalog: new LocalMachineCatalog({ facts: { vcpus: 2, threadsPerCore: 2, memoryMiB: 8192 } }),
    preflight: new LocalPreflight(DASK_PROGRAMS),
    workflows,
    secrets,
    clock,
    newClusterId: () => `c-${(++ids).toString(16).padStart(16, '0')}`,
    newSecret,
    destroyTimeoutSeconds: DESTROY_TIMEOUT_SECONDS.default,
    access: { admins: [ADMIN_ROLE_ARN] },
    commands: commandStoreOf(API),
    remote: new ScriptedRemote(() => ({ stdout: 'ok\n' })),
    newCommandId: () => `cmd-${(++ids).toString(16).padStart(16, '0')}`,
    provider,
  });
  const create = async (name: string) => {
    const answer = await callApi<Cluster>(api, 'POST', '/clusters', { body: { name, profile: PROFILE } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    return answer.body;
  };
  const destroy = (name: string) => callApi<Cluster>(api, 'DELETE', `/clusters/${name}`);
  const cleanup = (task: TaskName) => ({ store: taskStore(task), provider, secrets, clock });
  const launch = async (clusterId: string) => {
    const { primaryAddress } = await launchRole(
      { clusterId, role: 'scheduler' },
      { store: taskStore('launchRole'), provider, secrets },
    );
    await launchRole(
      { clusterId, role: 'worker', primaryAddress: primaryAddress! },
      { store: taskStore('launchRole'), provider, secrets },
    );
  };

  // A create that becomes READY, is listed, described, followed and destroyed.
  const ready = await create('ready');
  await launch(ready.id);
  const check = {
    store: taskStore('checkMachines'),
    provider: publicOnceRunning(provider),
    remote: new ScriptedRemote(() => ({})),
    clock,
  };
  await until(() => checkMachines({ clusterId: ready.id, want: 'running' }, check));
  await probeReady(
    { clusterId: ready.id },
    {
      store: taskStore('probeReady'),
      probe: fakeDaskProbe(() => true, 2),
      secrets,
      clock,
      sleep: async (ms) => clock.advance(ms),
      settings: { budgetMs: 1_000, intervalMs: 100, network: 'private' },
    },
  );
  const init = {
    store: taskStore('runInit'),
    commands: commandStoreOf(taskEntry('runInit')),
    remote: new ScriptedRemote(() => ({ readsBeforeEnd: 1, stdout: 'ok\n' })),
    clock,
    secrets,
  };
  let position = 0;
  await until(async () => {
    const look = await runInit({ clusterId: ready.id, position }, init);
    position = look.position;
    return look;
  });
  await recordReady({ clusterId: ready.id }, { store: taskStore('recordReady'), clock });
  expect((await callApi(api, 'GET', '/clusters')).status).toBe(200);
  expect((await callApi(api, 'GET', '/clusters/ready')).status).toBe(200);
  expect((await callApi(api, 'GET', '/clusters/ready/events')).status).toBe(200);
  // A command on it, read until it ended, listed, and one cancelled.
  const command = await callApi<{ id: string }>(api, 'POST', '/clusters/ready/commands', {
    body: { command: 'hostname', target: 'all' },
  });
  expect(command.status, JSON.stringify(command.body)).toBe(202);
  expect((await callApi(api, 'GET', `/clusters/ready/commands/${command.body.id}`)).status).toBe(200);
  expect((await callApi(api, 'GET', '/clusters/ready/commands')).status).toBe(200);
  const second = await callApi<{ id: string }>(api, 'POST', '/clusters/ready/commands', {
    body: { command: 'sleep 60', target: 'scheduler' },
  });
  expect((await callApi(api, 'DELETE', `/clusters/ready/commands/${second.body.id}`)).status).toBe(202);
  expect((await destroy('ready')).status).toBe(202);
  await terminateMachines({ clusterId: ready.id }, cleanup('terminateMachines'));
  await until(() => checkMachines({ clusterId: ready.id, want: 'terminated' }, check));
  await recordDestroyed({ clusterId: ready.id }, { store: taskStore('recordDestroyed') });

  // A READY cluster restarted twice: once to READY, once to FAILED, and a third restart whose workflow cannot start.
  const services = new FakeServiceRestarter();
  const restarted = await create('restarted');
  await launch(restarted.id);
  await until(() => checkMachines({ clusterId: restarted.id, want: 'running' }, check));
  await recordReady({ clusterId: restarted.id }, { store: taskStore('recordReady'), clock });
  const restart = async () => {
    const answer = await callApi<Cluster>(api, 'POST', '/clusters/restarted/restart');
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    return workflows.started.at(-1)!.input as { requestedAt: string };
  };
  const { requestedAt } = await restart();
  const item = { clusterId: restarted.id, role: 'scheduler' as const, requestedAt };
  const { ticketId } = await restartRole(item, { store: taskStore('restartRole'), services });
  await until(() =>
    checkRestart({ ...item, ticketId }, { store: taskStore('checkRestart'), services, clock }),
  );
  await recordRestarted(
    { clusterId: restarted.id, requestedAt },
    { store: taskStore('recordRestarted'), clock },
  );
  await restart();
  const lastLook = (up: boolean) => ({
    store: taskStore('recordRestartFailed'),
    probe: fakeDaskProbe(() => up, 2),
    secrets,
    settings: { network: 'private' as const },
  });
  await recordRestartFailed(
    { clusterId: restarted.id, failedStep: 'probe-ready', error: { Error: 'ReadyTimeoutError' } },
    lastLook(false),
  );
  const backAfterAll = await create('back-after-all');
  await launch(backAfterAll.id);
  await recordReady({ clusterId: backAfterAll.id }, { store: taskStore('recordReady'), clock });
  expect((await callApi(api, 'POST', '/clusters/back-after-all/restart')).status).toBe(202);
  await recordRestartFailed(
    { clusterId: backAfterAll.id, failedStep: 'record-restarted', error: { Error: 'Error' } },
    lastLook(true),
  );
  workflows.failure = new Error('states:StartExecution throttled');
  expect((await callApi(api, 'POST', '/clusters/back-after-all/restart')).status).toBe(500);
  workflows.failure = undefined;

  // A READY cluster paused and resumed; a pause that fails (READY again after all), then fails
  // for good (a machine gone); a resume that fails (PAUSED again), then fails for good.
  const moves = (task: TaskName) => ({ store: taskStore(task), provider, clock });
  const moved = async (name: string) => {
    const cluster = await create(name);
    await launch(cluster.id);
    await until(() => checkMachines({ clusterId: cluster.id, want: 'running' }, check));
    await recordReady({ clusterId: cluster.id }, { store: taskStore('recordReady'), clock });
    return cluster;
  };
  const move = async (name: string, action: 'pause' | 'resume') => {
    const answer = await callApi<Cluster>(api, 'POST', `/clusters/${name}/${action}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    return (workflows.started.at(-1)!.input as { requestedAt: string }).requestedAt;
  };
  const moveError = { Error: 'ReadyTimeoutError', Cause: 'the dashboard never answered' };
  const pausable = await moved('pausable');
  const pausedAt = await move('pausable', 'pause');
  await stopMachines({ clusterId: pausable.id }, moves('stopMachines'));
  await until(() => checkMachines({ clusterId: pausable.id, want: 'stopped', since: pausedAt }, check));
  await recordPaused({ clusterId: pausable.id, requestedAt: pausedAt }, moves('recordPaused'));
  const resumedAt = await move('pausable', 'resume');
  await startMachines({ clusterId: pausable.id }, moves('startMachines'));
  await until(() =>
    checkMachines({ clusterId: pausable.id, want: 'running', since: resumedAt, starting: true }, check),
  );
  await recordResumed({ clusterId: pausable.id, requestedAt: resumedAt }, moves('recordResumed'));
  await move('pausable', 'pause');
  await recordPauseFailed(
    { clusterId: pausable.id, failedStep: 'check-stopped', error: moveError },
    moves('recordPauseFailed'),
  );
  await recordResumeFailed(
    { clusterId: pausable.id, failedStep: 'probe-ready', error: moveError },
    moves('recordResumeFailed'),
  );
  await move('pausable', 'resume');
  const lost = (await callApi<Cluster>(api, 'GET', '/clusters/pausable')).body.instances![0]!.id;
  provider.kill(lost);
  await recordResumeFailed(
    { clusterId: pausable.id, failedStep: 'check-running', error: moveError },
    moves('recordResumeFailed'),
  );
  const lostInPause = await moved('lost-in-pause');
  await move('lost-in-pause', 'pause');
  provider.kill((await callApi<Cluster>(api, 'GET', '/clusters/lost-in-pause')).body.instances![0]!.id);
  await recordPauseFailed(
    { clusterId: lostInPause.id, failedStep: 'check-stopped', error: moveError },
    moves('recordPauseFailed'),
  );

  // A create that fails and rolls back, and a destroy that fails.
  const failed = await create('rolled-back');
  await launch(failed.id);
  const error = { Error: 'ReadyTimeoutError', Cause: 'the dashboard never answered' };
  await rollbackCreate({ clusterId: failed.id, failedStep: 'probe-ready', error }, cleanup('rollbackCreate'));
  const stuck = await create('stuck');
  expect((await destroy('stuck')).status).toBe(202);
  await recordDestroyFailed(
    { clusterId: stuck.id, failedStep: 'check-terminated', error },
    { store: taskStore('recordDestroyFailed') },
  );

  // A sweep: the clusters past the deployment's lifetime ceiling ended, a young one's commands,
  // activity and health looked at, and a create whose workflow is gone rolled back.
  const expired = await create('expired');
  await launch(expired.id);
  await until(() => checkMachines({ clusterId: expired.id, want: 'running' }, check));
  await recordReady({ clusterId: expired.id }, { store: taskStore('recordReady'), clock });
  await create('abandoned');
  clock.advance(2 * 60_000);
  // On a table an older bilbo wrote, the scheduled sweep may be the first to list: it marks the live records.
  await testStore.client.send(new DeleteCommand({ TableName: testStore.tableName, Key: LIVE_MARKED_KEY }));
  const lively = await create('lively');
  await launch(lively.id);
  await until(() => checkMachines({ clusterId: lively.id, want: 'running' }, check));
  await recordReady({ clusterId: lively.id }, { store: taskStore('recordReady'), clock });
  const report = await sweep(
    { dryRun: false },
    {
      store: taskStore('sweep'),
      commands: commandStoreOf(taskEntry('sweep')),
      provider,
      secrets,
      workflows,
      remote: new ScriptedRemote(() => ({ stdout: 'ok\n' })),
      servicesProbe: { probe: fakeDaskProbe(() => true, 2), network: 'private', secrets },
      clock,
      sleep: async (ms) => clock.advance(ms),
      newCommandId: () => `cmd-${(++ids).toString(16).padStart(16, '0')}`,
      destroyTimeoutSeconds: DESTROY_TIMEOUT_SECONDS.default,
      access: { admins: [] },
      reaper: { ...REAPER_DEFAULTS, maxLifetimeCeilingSeconds: 60 },
    },
  );
  expect(report).toMatchObject({ errors: 0 });
  expect(report.destroyed).toBeGreaterThan(0);
  expect(report.failed).toBeGreaterThan(0);

  // The API's own failures: a create whose workflow cannot start, a destroy likewise.
  workflows.failure = new Error('states:StartExecution throttled');
  expect(
    (await callApi(api, 'POST', '/clusters', { body: { name: 'unstarted', profile: PROFILE } })).status,
  ).toBe(500);
  expect((await destroy('stuck')).status).toBe(500);
});

afterAll(() => synth?.cleanup());

describe("each function's table grant", () => {
  it('is exactly what its code does to the table, on the paths the workflows and the API take', () => {
    const functions = [API, ...TASK_NAMES.map(taskEntry)];
    const did = Object.fromEntries(
      functions.map((entry) => [
        entry,
        Object.fromEntries(
          Object.entries(used[entry] ?? {}).map(([resource, actions]) => [resource, [...actions].sort()]),
        ),
      ]),
    );
    const granted = Object.fromEntries(
      entries(synth.template).map((entry) => [entry, tableActionsOf(synth.template, entry)]),
    );

    expect(Object.keys(granted).sort()).toEqual([...functions].sort());
    expect(did).toEqual(granted);
  });
});
