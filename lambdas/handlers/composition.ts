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
import { type AwsAdapters, awsAdapters } from '../adapters/aws-adapters.ts';
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
  provider: () => ec2().provider,
  catalog: () => ec2().catalog,
  preflight: () => ec2().preflight,
  probe: () => new HttpReadinessProbe(),
  secrets: () => ec2().secrets,
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

let awsAdaptersCache: AwsAdapters | undefined;

/** The EC2/SSM adapters, from the environment the stack gives every function. */
function ec2(): AwsAdapters {
  const provider = process.env.MACHINE_PROVIDER;
  if (provider !== 'ec2') {
    throw new ConfigurationError(
      `MACHINE_PROVIDER=${provider ?? '(unset)'}: only ec2 is configured from the environment`,
    );
  }
  awsAdaptersCache ??= awsAdapters({
    region: requiredEnv('AWS_REGION'),
    subnetIds: requiredEnv('CLUSTER_SUBNET_IDS').split(','),
    clusterSecurityGroupId: requiredEnv('CLUSTER_SECURITY_GROUP_ID'),
    instanceProfileArn: requiredEnv('INSTANCE_PROFILE_ARN'),
    ...(process.env.DEFAULT_AMI ? { defaultAmi: process.env.DEFAULT_AMI } : {}),
    ...(process.env.SECRETS_PREFIX ? { secretsPrefix: process.env.SECRETS_PREFIX } : {}),
  });
  return awsAdaptersCache;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigurationError(`the environment variable ${name} is not set`);
  return value;
}
