import { PassThrough, Writable } from 'node:stream';
import { vi } from 'vitest';
import type { BilboApi } from '../../../cli/api/client.ts';
import type { BrowserCommand, BrowserOutcome } from '../../../cli/browser.ts';
import type { Factory, IOStreams, LocalControlPlane } from '../../../cli/factory.ts';
import type { Cluster, ClusterEvent, ClusterState, Plan } from '../../../schemas/types.generated.ts';

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

/**
 * An API whose cluster goes through `states` (one per getCluster call, the
 * last repeating) and whose events come out in `batches` (one batch per
 * events call, then nothing).
 */
export function scriptedApi(script: { states?: Cluster[]; batches?: ClusterEvent[][] } = {}) {
  const states = [...(script.states ?? [aCluster()])];
  const batches = [...(script.batches ?? [])];
  const api = {
    createCluster: vi.fn(async () => states[0]!),
    plan: vi.fn(async () => aPlan()),
    listClusters: vi.fn(async () => [] as Cluster[]),
    getCluster: vi.fn(async () => (states.length > 1 ? states.shift()! : states[0]!)),
    destroyCluster: vi.fn(async () => aCluster({ state: 'DESTROYING' })),
    restartCluster: vi.fn(async () => aCluster({ state: 'RESTARTING' })),
    events: vi.fn(async (_name: string, _options?: { after?: string }) => batches.shift() ?? []),
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
