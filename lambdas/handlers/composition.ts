/**
 * The composition root of every Lambda: adapters are built once per
 * process from the environment, read and checked here and nowhere else.
 * Local mode (and tests) provide the adapters that have no environment
 * form — the in-process workflow runner, the local machine provider —
 * before the first invocation.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbClusterStore } from '../adapters/dynamodb/cluster-store.ts';
import { HttpReadinessProbe } from '../adapters/http/readiness-probe.ts';
import { SfnWorkflowStarter } from '../adapters/sfn/workflow-starter.ts';
import type {
  Clock,
  ClusterStore,
  InstanceTypeCatalog,
  LaunchPreflight,
  MachineProvider,
  ReadinessProbe,
  SecretStore,
  WorkflowStarter,
} from '../domain/ports.ts';
import type { ProbeSettings } from '../domain/workflow/probe-ready.ts';

export interface Dependencies {
  store: ClusterStore;
  provider: MachineProvider;
  catalog: InstanceTypeCatalog;
  preflight: LaunchPreflight;
  probe: ReadinessProbe;
  secrets: SecretStore;
  workflows: WorkflowStarter;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  newClusterId: () => string;
  newSecret: () => string;
  probeSettings: ProbeSettings;
}

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

let provided: Partial<Dependencies> = {};
let cache: Partial<Dependencies> = {};

/** Replaces adapters before the handlers first run (local mode, tests). */
export function provideDependencies(dependencies: Partial<Dependencies>): void {
  provided = { ...provided, ...dependencies };
  cache = {};
}

export function dependency<K extends keyof Dependencies>(key: K): Dependencies[K] {
  const existing = provided[key] ?? cache[key];
  if (existing !== undefined) return existing as Dependencies[K];
  const built = fromEnvironment[key]();
  cache[key] = built;
  return built;
}

const systemClock: Clock = { now: () => new Date() };

const fromEnvironment: { [K in keyof Dependencies]: () => Dependencies[K] } = {
  store: () =>
    new DynamoDbClusterStore({
      client: DynamoDBDocumentClient.from(new DynamoDBClient({}), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      tableName: requiredEnv('TABLE_NAME'),
      clock: systemClock,
    }),
  workflows: () =>
    new SfnWorkflowStarter(new SFNClient({}), {
      create: requiredEnv('CREATE_STATE_MACHINE_ARN'),
      destroy: requiredEnv('DESTROY_STATE_MACHINE_ARN'),
    }),
  provider: () => {
    throw new ConfigurationError(
      `MACHINE_PROVIDER=${process.env.MACHINE_PROVIDER ?? '(unset)'}: only the local provider exists so far, and local mode provides it`,
    );
  },
  catalog: () => {
    throw new ConfigurationError('no instance-type catalog is configured for this provider');
  },
  preflight: () => {
    throw new ConfigurationError('no launch preflight is configured for this provider');
  },
  probe: () => new HttpReadinessProbe(),
  secrets: () => {
    throw new ConfigurationError('no secret store is configured for this provider');
  },
  clock: () => systemClock,
  sleep: () => (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
  newClusterId: () => () => `c-${randomBytes(8).toString('hex')}`,
  newSecret: () => () => randomBytes(24).toString('base64url'),
  probeSettings: () => ({
    budgetMs: Number(process.env.PROBE_BUDGET_MS ?? 55_000),
    intervalMs: Number(process.env.PROBE_INTERVAL_MS ?? 1_000),
    network: process.env.PROBE_NETWORK === 'public' ? 'public' : 'private',
  }),
};

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigurationError(`the environment variable ${name} is not set`);
  return value;
}
