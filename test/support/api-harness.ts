/**
 * The API handler wired for tests: a fresh store on DynamoDB Local per
 * test, the local instance-type catalog with fixed facts, and a workflow
 * starter that records what it was asked to start (or fails on demand).
 */

import { beforeEach } from 'vitest';
import { DynamoDbCommandStore } from '../../lambdas/adapters/dynamodb/command-store.ts';
import { LocalPreflight } from '../../lambdas/adapters/local/local-preflight.ts';
import { LocalMachineCatalog } from '../../lambdas/adapters/local/machine-catalog.ts';
import { MemorySecretStore } from '../../lambdas/adapters/local/memory-secret-store.ts';
import { DESTROY_TIMEOUT_SECONDS } from '../../lambdas/domain/deadlines.ts';
import type { WorkflowExecution, WorkflowStarter } from '../../lambdas/domain/ports.ts';
import type { WorkflowInputs, WorkflowName } from '../../lambdas/domain/workflows.ts';
import { createApiHandler } from '../../lambdas/handlers/api/app.ts';
import { newSecret } from '../../lambdas/handlers/composition/runtime.ts';
import type { Cluster } from '../../schemas/types.generated.ts';
import { ADMIN_ROLE_ARN, type ApiAnswer, type ApiRequest, callApi } from './api-events.ts';
import { DASK_PROGRAMS } from './dask-launch.ts';
import { makeTestStore, type TestStore } from './dynamodb.ts';
import { FakeMachineProvider } from './fake-provider.ts';
import { ScriptedRemote } from './fake-remote.ts';

export interface StartedWorkflow {
  workflow: WorkflowName;
  executionName: string;
  input: WorkflowInputs[WorkflowName];
}

export class RecordingWorkflows implements WorkflowStarter {
  readonly started: StartedWorkflow[] = [];
  failure: Error | undefined;
  /** Runs inside start, as a fast workflow's first steps would. */
  duringStart: (() => Promise<void>) | undefined;
  /** Executions still running, by ARN: every other one has ended. */
  readonly running = new Set<string>();

  async start<W extends WorkflowName>(
    workflow: W,
    executionName: string,
    input: WorkflowInputs[W],
  ): Promise<string> {
    if (this.failure) throw this.failure;
    this.started.push({ workflow, executionName, input });
    await this.duringStart?.();
    return `arn:aws:states:eu-west-1:123456789012:execution:bilbo-${workflow}:${executionName}`;
  }

  async isRunning(executionArn: string): Promise<boolean> {
    return this.running.has(executionArn);
  }

  /** How each execution (by name) ended, as a test sets it; a started one not set here still runs. */
  readonly executions = new Map<string, WorkflowExecution>();

  async describe(workflow: WorkflowName, executionName: string): Promise<WorkflowExecution | undefined> {
    const known = this.executions.get(executionName);
    if (known) return known;
    const started = this.started.some((s) => s.workflow === workflow && s.executionName === executionName);
    return started ? { status: 'RUNNING' } : undefined;
  }
}

export const PROFILE = {
  instance: { ec2type: 't3.large' },
  dask: { worker: { count: 2, nproc: 1, nthread: 2 } },
};
const FACTS = { vcpus: 2, threadsPerCore: 2, memoryMiB: 8192 };

export interface ApiHarness {
  /** Replaced before each test. */
  testStore: TestStore;
  /** Replaced before each test; a test may make its writes fail. */
  secrets: MemorySecretStore;
  /** Replaced before each test. */
  workflows: RecordingWorkflows;
  /** The remote commands: each ends at once, printing `ok`. */
  remote: ScriptedRemote;
  /** Replaced before each test: the machines reads describe for the clusters' health. */
  provider: FakeMachineProvider;
  call<T = unknown>(method: string, path: string, request?: ApiRequest): Promise<ApiAnswer<T>>;
  /** POST /clusters with PROFILE and any extra request fields. */
  create(name: string, extra?: Record<string, unknown>, caller?: string): Promise<ApiAnswer<Cluster>>;
  /** Every recorded cluster, ended ones included. */
  everything(): Promise<Cluster[]>;
}

/** Registers a beforeEach that gives the handler fresh dependencies. */
export function useApiHarness(): ApiHarness {
  let handler: ReturnType<typeof createApiHandler>;
  const harness = {
    call: (method, path, request) => callApi(handler, method, path, request),
    create: (name, extra = {}, caller = undefined) =>
      callApi<Cluster>(handler, 'POST', '/clusters', {
        body: { name, profile: PROFILE, ...extra },
        ...(caller ? { caller } : {}),
      }),
    everything: () => harness.testStore.store.list({ includeEnded: true }),
  } as ApiHarness;

  beforeEach(async () => {
    harness.testStore = await makeTestStore();
    harness.workflows = new RecordingWorkflows();
    harness.secrets = new MemorySecretStore();
    let ids = 0;
    let commandIds = 0;
    harness.remote = new ScriptedRemote(() => ({ stdout: 'ok\n' }));
    harness.provider = new FakeMachineProvider();
    handler = createApiHandler({
      newSweepId: () => `sweep-${(++ids).toString(16).padStart(16, '0')}`,
      store: harness.testStore.store,
      catalog: new LocalMachineCatalog({ facts: FACTS }),
      preflight: new LocalPreflight(DASK_PROGRAMS),
      workflows: harness.workflows,
      secrets: harness.secrets,
      clock: harness.testStore.clock,
      newClusterId: () => `c-${(++ids).toString(16).padStart(16, '0')}`,
      newSecret,
      destroyTimeoutSeconds: DESTROY_TIMEOUT_SECONDS.default,
      access: { admins: [ADMIN_ROLE_ARN] },
      commands: new DynamoDbCommandStore({
        client: harness.testStore.client,
        tableName: harness.testStore.tableName,
      }),
      remote: harness.remote,
      newCommandId: () => `cmd-${(++commandIds).toString(16).padStart(16, '0')}`,
      provider: harness.provider,
    });
  });
  return harness;
}
