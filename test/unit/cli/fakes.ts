import { PassThrough, Writable } from 'node:stream';
import { vi } from 'vitest';
import { type BilboApi, createApiClient } from '../../../cli/api/client.ts';
import type { HttpResponse, SignedHttp } from '../../../cli/api/http.ts';
import type { BrowserCommand, BrowserOutcome } from '../../../cli/browser.ts';
import type { Factory, IOStreams, LocalControlPlane } from '../../../cli/factory.ts';
import type {
  Cluster,
  ClusterEvent,
  ClusterState,
  CommandInvocation,
  CommandOutput,
  CommandRecord,
  InvocationOutput,
  NotebookLink,
  Plan,
  StartCommandRequest,
  Sweep,
} from '../../../schemas/types.generated.ts';
import { aSweepReport } from '../../support/sweep-reports.ts';

/** A stream that keeps what is written to it; with isTTY, it takes a terminal's cursor calls too. */
export class Capture extends Writable {
  text = '';
  isTTY = false;
  columns = 100;

  cursorTo(): boolean {
    return true;
  }

  clearLine(): boolean {
    return true;
  }

  moveCursor(): boolean {
    return true;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

export const T0 = Date.parse('2026-11-28T12:00:00.000Z');

export function aPlan(overrides: Partial<Plan> = {}): Plan {
  return {
    cluster: 'analytics',
    kind: 'dask',
    roles: [
      {
        role: 'scheduler',
        count: 1,
        instance: { init_cmd: [], tags: [] },
        instanceType: { name: 't3.medium', vcpus: 2, threadsPerCore: 2, memoryMiB: 4096 },
      },
      {
        role: 'worker',
        count: 2,
        instance: { init_cmd: [], tags: [] },
        instanceType: { name: 'm5.large', vcpus: 2, threadsPerCore: 2, memoryMiB: 8192 },
        dask: { nworkers: 2, nthreads: 1, memoryLimitBytes: 2 * 1024 ** 3 },
      },
    ],
    wantedWorkers: 4,
    totalWorkers: 4,
    readyTimeoutSeconds: 600,
    idleTimeoutSeconds: 1800,
    maxLifetimeSeconds: 0,
    notes: [],
    ...overrides,
  };
}

export function aCluster(overrides: Partial<Cluster> = {}): Cluster {
  return {
    id: 'c-0001',
    name: 'analytics',
    owner: 'arn:aws:iam::123456789012:user/alice',
    state: 'CREATING',
    version: 1,
    createdAt: new Date(T0 - 90_000).toISOString(),
    updatedAt: new Date(T0 - 60_000).toISOString(),
    profileName: 'analytics',
    plan: aPlan(),
    ...overrides,
  };
}

export function anEvent(n: number, message: string, state?: ClusterState): ClusterEvent {
  return {
    id: `e${String(n).padStart(4, '0')}`,
    clusterId: 'c-0001',
    at: new Date(T0 + n * 1000).toISOString(),
    step: `step-${n}`,
    message,
    ...(state ? { state } : {}),
  };
}

export const readyCluster = (overrides: Partial<Cluster> = {}): Cluster =>
  aCluster({
    state: 'READY',
    version: 5,
    schedulerAddress: 'tcp://10.0.0.5:8786',
    dashboardUrl: 'http://10.0.0.5:8787/status',
    workersJoined: 4,
    ...overrides,
  });

export function anInvocation(
  role: CommandInvocation['role'],
  index: number,
  overrides: Partial<CommandInvocation> = {},
): CommandInvocation {
  return { instanceId: `i-${role}${index}`, role, index, state: 'running', ...overrides };
}

/** A command just started: RUNNING, on the scheduler unless `invocations` says otherwise. */
export function aCommand(overrides: Partial<CommandRecord> = {}): CommandRecord {
  return {
    id: 'cmd-00000000000000a1',
    clusterId: 'c-00000000000000c1',
    kind: 'rcmd',
    what: 'uptime',
    target: 'scheduler',
    requestedBy: 'arn:aws:iam::123456789012:user/alice',
    state: 'RUNNING',
    createdAt: new Date(T0).toISOString(),
    timeoutSeconds: 3600,
    invocations: [anInvocation('scheduler', 0)],
    ...overrides,
  };
}

/** The command ended: its state, and each invocation's end (by position). */
export function ended(
  command: CommandRecord,
  state: CommandRecord['state'],
  ends: Partial<CommandInvocation>[] = [],
  overrides: Partial<CommandRecord> = {},
): CommandRecord {
  const invocations = command.invocations.map((invocation, i) => ({
    ...invocation,
    state: state === 'SUCCEEDED' ? ('succeeded' as const) : ('failed' as const),
    exitCode: state === 'SUCCEEDED' ? 0 : 1,
    ...ends[i],
  })) as CommandRecord['invocations'];
  return { ...command, state, endedAt: new Date(T0 + 5000).toISOString(), invocations, ...overrides };
}

/**
 * One answer of GET .../commands/{id}: the new output of each invocation
 * (by position: [stdout, stderr]) and, when given, the record it ends with.
 */
export interface Poll {
  output?: [string, string][];
  command?: CommandRecord;
  /** The request never answers (until Ctrl-C). */
  hang?: boolean;
}

/**
 * A remote command that starts as `started` and answers `polls` in order;
 * after the last, it answers the last record with no output. The cursors
 * are `n:n` strings that count the polls, so tests can check they chain.
 */
export function scriptedCommand(started: CommandRecord, polls: Poll[]) {
  const queue = [...polls];
  let current = started;
  let answered = 0;
  return {
    started,
    answer(): Promise<CommandOutput> {
      const poll = queue.shift() ?? {};
      if (poll.hang) return new Promise(() => {});
      current = poll.command ?? current;
      answered += 1;
      const output: InvocationOutput[] = (poll.output ?? []).map(([stdout, stderr], i) => ({
        instanceId: current.invocations[i]!.instanceId,
        stdout,
        stderr,
      }));
      return Promise.resolve({ command: current, output, next: `${answered}:${answered}` });
    },
    get current() {
      return current;
    },
  };
}

type ScriptedCommand = ReturnType<typeof scriptedCommand>;

/**
 * An API whose cluster goes through `states` (one per getCluster call, the
 * last repeating), whose events come out in `batches` (one batch per
 * events call, then nothing), whose started commands follow `commands`
 * (one per startCommand call; an Error is thrown instead), and whose
 * command list is `history`.
 */
/** How many empty event answers a scripted API gives once its batches are spent. */
const MAX_EMPTY_EVENT_ANSWERS = 100;

/** The token in the scripted API's notebook links. */
export const NOTEBOOK_TOKEN = 'tok-0123456789abcdef';

/** The sweep a scripted `reap` starts. */
export const SWEEP_ID = 'sweep-0190f3a2b4c5d6e7';

export function scriptedApi(
  script: {
    states?: Cluster[];
    batches?: ClusterEvent[][];
    commands?: (ScriptedCommand | Error)[];
    history?: CommandRecord[];
    sweep?: { looks?: number; ending?: Sweep };
  } = {},
) {
  let sweepLooks = 0;
  let sweepDryRun = false;
  const states = [...(script.states ?? [aCluster()])];
  const batches = [...(script.batches ?? [])];
  const commands = [...(script.commands ?? [])];
  const running = new Map<string, ScriptedCommand>();
  let emptyAnswers = 0;
  const api = {
    createCluster: vi.fn(async () => states[0]!),
    plan: vi.fn(async () => aPlan()),
    listClusters: vi.fn(async () => [] as Cluster[]),
    getCluster: vi.fn(async () => (states.length > 1 ? states.shift()! : states[0]!)),
    destroyCluster: vi.fn(async () => aCluster({ state: 'DESTROYING' })),
    restartCluster: vi.fn(async () => aCluster({ state: 'RESTARTING' })),
    notebookLink: vi.fn(async (_name: string): Promise<NotebookLink> => {
      const cluster = states[0]!;
      if (!cluster.notebookUrl) throw new Error('the scripted cluster has no notebook');
      return { url: `${cluster.notebookUrl}/?token=${NOTEBOOK_TOKEN}` };
    }),
    pauseCluster: vi.fn(async () => aCluster({ state: 'PAUSING' })),
    resumeCluster: vi.fn(async () => aCluster({ state: 'RESUMING' })),
    events: vi.fn(async (_name: string, _options?: { after?: string }) => {
      const batch = batches.shift();
      if (batch !== undefined) return batch;
      // A follower the script never ends would loop here for ever: fail the test instead.
      if (++emptyAnswers > MAX_EMPTY_EVENT_ANSWERS) {
        throw new Error(`the scripted events ran out ${MAX_EMPTY_EVENT_ANSWERS} answers ago`);
      }
      return [];
    }),
    startCommand: vi.fn(async (_name: string, _request: StartCommandRequest) => {
      const next = commands.shift();
      if (next === undefined) throw new Error('no command scripted');
      if (next instanceof Error) throw next;
      running.set(next.started.id, next);
      return next.started;
    }),
    getCommandOutput: vi.fn(
      async (_name: string, id: string, _options?: { offset?: string; wait?: number }) => {
        const command = running.get(id);
        if (command === undefined) throw new Error(`no command ${id} started`);
        return command.answer();
      },
    ),
    cancelCommand: vi.fn(async (_name: string, id: string) => {
      const command = running.get(id);
      if (command === undefined) throw new Error(`no command ${id} started`);
      return ended(command.current, 'CANCELLED', [], { reason: 'cancelled by its requester' });
    }),
    listCommands: vi.fn(async (_name: string) => [...(script.history ?? [])]),
    reap: vi.fn(async ({ dryRun = false }: { dryRun?: boolean } = {}): Promise<Sweep> => {
      sweepDryRun = dryRun;
      return { id: SWEEP_ID, status: 'RUNNING' };
    }),
    /** RUNNING for `script.sweep.looks` looks (1 by default), then how `script.sweep.ending` says it ended. */
    getSweep: vi.fn(async (id: string): Promise<Sweep> => {
      if (id !== SWEEP_ID) throw new Error(`no sweep ${id} started`);
      if (sweepLooks++ < (script.sweep?.looks ?? 1)) return { id, status: 'RUNNING' };
      return (
        script.sweep?.ending ?? { id, status: 'SUCCEEDED', report: aSweepReport({ dryRun: sweepDryRun }) }
      );
    }),
  } satisfies BilboApi;
  return api;
}

export interface FakeOptions {
  api?: BilboApi;
  tty?: boolean;
  env?: Record<string, string | undefined>;
  home?: string;
  confirm?: boolean;
  overrides?: Partial<Factory>;
}

export interface Fake {
  f: Factory;
  stdout: Capture;
  stderr: Capture;
  /** Presses Ctrl-C: calls every handler registered with onInterrupt. */
  interrupt(): void;
  sleeps: number[];
  opened: string[];
  prompts: string[];
  /** Advances the fake clock. */
  tick(ms: number): void;
}

export function fakeFactory(options: FakeOptions = {}): Fake {
  const stdout = new Capture();
  const stderr = new Capture();
  const tty = options.tty ?? false;
  const io: IOStreams = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    isStdinTTY: tty,
    isStdoutTTY: tty,
    isStderrTTY: tty,
    stdoutColor: false,
    stderrColor: false,
  };
  let clock = T0;
  const handlers = new Set<() => void>();
  const sleeps: number[] = [];
  const opened: string[] = [];
  const prompts: string[] = [];
  const api = options.api ?? scriptedApi();
  const f: Factory = {
    io,
    env: options.env ?? {},
    version: () => '1.2.3',
    home: () => options.home ?? '/nonexistent/bilbo-home',
    api: async () => api,
    prompter: {
      confirm: async (question) => {
        prompts.push(question);
        return options.confirm ?? false;
      },
    },
    openBrowser: async (url): Promise<BrowserOutcome> => {
      opened.push(url);
      const browser: BrowserCommand = {
        command: 'fake-browser',
        args: [url],
        source: 'platform',
        description: 'fake-browser',
      };
      return { opened: true, browser, failures: [] };
    },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    onInterrupt: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    waitForShutdown: () => new Promise(() => {}),
    startLocalControlPlane: async (): Promise<LocalControlPlane> => {
      throw new Error('not faked');
    },
    ...options.overrides,
  };
  return {
    f,
    stdout,
    stderr,
    interrupt: () => {
      for (const handler of [...handlers]) handler();
    },
    sleeps,
    opened,
    prompts,
    tick: (ms) => {
      clock += ms;
    },
  };
}

/**
 * The real API client over a fake signed HTTP that answers GETs from these
 * records as the API would: what reaches the commands has been through the
 * client's own handling (its control characters written out).
 */
export function apiOverHttp(
  data: { clusters?: Cluster[]; events?: ClusterEvent[]; commands?: CommandRecord[] } = {},
): BilboApi {
  const clusters = data.clusters ?? [];
  const http: SignedHttp = {
    endpoint: 'https://api.example.com/prod',
    async request(method, path, options) {
      const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
      if (method !== 'GET' || parts[0] !== 'clusters') return answer(404, { code: 'NOT_FOUND' });
      if (parts.length === 1) return answer(200, { clusters });
      const cluster = clusters.find((c) => c.name === parts[1]);
      if (!cluster) return answer(404, { code: 'CLUSTER_NOT_FOUND', message: 'no such cluster' });
      if (parts.length === 2) return answer(200, cluster);
      const after = options?.query?.after;
      if (parts[2] === 'events') {
        return answer(200, { events: (data.events ?? []).filter((e) => !after || e.id > after) });
      }
      if (parts[2] === 'commands') return answer(200, { commands: data.commands ?? [] });
      return answer(404, { code: 'NOT_FOUND' });
    },
  };
  return createApiClient(http);
}

function answer(status: number, json: unknown): HttpResponse {
  return { status, json, text: JSON.stringify(json) };
}
