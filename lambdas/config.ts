/**
 * The deployment contract between the stack and the Lambdas: every
 * environment variable, by name, in one place. The CDK code sets them with
 * `environmentOf` and the Lambdas read them with `readConfig`, once, at
 * start-up: a missing or malformed value stops the function there, with a
 * message that names the variable and what it must be.
 *
 * Variables come in sections, so each function is given (and reads) only
 * what its step needs.
 */
import { DESTROY_TIMEOUT_SECONDS } from './domain/deadlines.ts';
import { REAPER_LIMITS } from './domain/reaper/limits.ts';
import { REAPER_DEFAULTS, type ReaperSettings } from './domain/reaper/rules.ts';
import type { ProbeSettings } from './domain/workflow/probe-ready.ts';
import { WORKFLOW_NAMES, type WorkflowName } from './domain/workflows.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** A variable the function needs is missing or malformed: a deployment bug, found at start-up. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

interface Variable<T> {
  readonly name: string;
  read(raw: string | undefined): T;
}

type Section = Readonly<Record<string, Variable<unknown>>>;
export type ConfigOf<S extends Section> = { [K in keyof S]: ReturnType<S[K]['read']> };

function text(name: string, shape: RegExp, what: string): Variable<string> {
  return {
    name,
    read: (raw) => {
      const value = raw?.trim();
      if (!value) throw new ConfigurationError(`${name} is not set: it must be ${what}`);
      if (!shape.test(value)) throw new ConfigurationError(`${name}=${raw} is not ${what}`);
      return value;
    },
  };
}

function optional<T>(variable: Variable<T>): Variable<T | undefined> {
  return { name: variable.name, read: (raw) => (raw?.trim() ? variable.read(raw) : undefined) };
}

function list(name: string, shape: RegExp, what: string): Variable<string[]> {
  return {
    name,
    read: (raw) => {
      const items = (raw ?? '').split(',').map((item) => item.trim());
      if (items.every((item) => item === ''))
        throw new ConfigurationError(`${name} is not set: it must be ${what}`);
      const bad = items.find((item) => !shape.test(item));
      if (bad !== undefined)
        throw new ConfigurationError(`${name}: ${JSON.stringify(bad)} is not one of ${what}`);
      return items;
    },
  };
}

/** A list that may be empty (unset). */
function optionalList(name: string, shape: RegExp, what: string): Variable<string[]> {
  const items = list(name, shape, what);
  return { name, read: (raw) => (raw?.trim() ? items.read(raw) : []) };
}

function integer(name: string, fallback: number, range: { min: number; max: number }): Variable<number> {
  return {
    name,
    read: (raw) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = Number(raw);
      if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
        throw new ConfigurationError(
          `${name}=${raw} is not a whole number from ${range.min} to ${range.max}`,
        );
      }
      return value;
    },
  };
}

function oneOf<T extends string>(name: string, values: readonly T[], fallback: T): Variable<T> {
  return {
    name,
    read: (raw) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      if (!(values as readonly string[]).includes(raw.trim())) {
        throw new ConfigurationError(`${name}=${raw} is not one of ${values.join(', ')}`);
      }
      return raw.trim() as T;
    },
  };
}

const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:\S+$/;
/** A CloudFormation stack's UUID, or a local plane's own id: a tag value, at most 64 characters. */
const DEPLOYMENT_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
/** An IAM user or role ARN (a role's sessions count as the role). */
export const IAM_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/[\w+=,.@/-]+$/;

/** Set by the Lambda runtime itself: the function's region. */
export const RUNTIME = {
  region: text('AWS_REGION', /^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region (eu-west-1)'),
} as const satisfies Section;

/** The clusters table: every function. */
export const TABLE = {
  tableName: text('TABLE_NAME', /^[A-Za-z0-9_.-]{3,255}$/, 'the clusters table name'),
} as const satisfies Section;

/** Where and how instances are launched: the functions that launch, look at or terminate them. */
export const EC2 = {
  subnetIds: list('CLUSTER_SUBNET_IDS', /^subnet-[0-9a-z]+$/, 'comma-separated subnet ids (subnet-…)'),
  securityGroupId: text('CLUSTER_SECURITY_GROUP_ID', /^sg-[0-9a-z]+$/, 'a security group id (sg-…)'),
  instanceProfileArn: text('INSTANCE_PROFILE_ARN', ARN, 'an instance profile ARN'),
  deploymentId: text('DEPLOYMENT_ID', DEPLOYMENT_ID, "the deployment's id (its stack's UUID)"),
  allowedSecurityGroupIds: optionalList(
    'ALLOWED_SECURITY_GROUP_IDS',
    /^sg-[0-9a-z]+$/,
    'comma-separated security group ids (sg-…)',
  ),
  defaultAmi: optional(text('DEFAULT_AMI', /^ami-[0-9a-z]+$/, 'an AMI id (ami-…)')),
} as const satisfies Section;

/** Where the clusters' secrets live in SSM Parameter Store. */
export const SECRETS = {
  prefix: text('SECRETS_PREFIX', /^(\/[A-Za-z0-9_.-]+)+$/, 'an SSM parameter path (/bilbo/clusters)'),
} as const satisfies Section;

/** How the readiness probe looks at a cluster. */
export const PROBE = {
  network: oneOf<ProbeSettings['network']>('PROBE_NETWORK', ['private', 'public'], 'private'),
  budgetMs: integer('PROBE_BUDGET_MS', 55_000, { min: 1_000, max: 840_000 }),
  intervalMs: integer('PROBE_INTERVAL_MS', 1_000, { min: 10, max: 60_000 }),
} as const satisfies Section;

/** How long the workflows may wait (the ones the profile does not set). */
export const DEADLINES = {
  destroyTimeoutSeconds: integer(
    'DESTROY_TIMEOUT_SECONDS',
    DESTROY_TIMEOUT_SECONDS.default,
    DESTROY_TIMEOUT_SECONDS,
  ),
} as const satisfies Section;

/** The deployment's reaper settings, one variable each: the sweep's function. */
export const REAPER = {
  maxLifetimeCeilingSeconds: reaperSetting(
    'REAPER_MAX_LIFETIME_CEILING_SECONDS',
    'maxLifetimeCeilingSeconds',
  ),
  pausedMaxAgeSeconds: reaperSetting('REAPER_PAUSED_MAX_AGE_SECONDS', 'pausedMaxAgeSeconds'),
  stuckGraceSeconds: reaperSetting('REAPER_STUCK_GRACE_SECONDS', 'stuckGraceSeconds'),
  orphanGraceSeconds: reaperSetting('REAPER_ORPHAN_GRACE_SECONDS', 'orphanGraceSeconds'),
  unknownLooksBeforeFailed: reaperSetting('REAPER_UNKNOWN_LOOKS_BEFORE_FAILED', 'unknownLooksBeforeFailed'),
} as const satisfies Section & { readonly [K in keyof ReaperSettings]: Variable<number> };

function reaperSetting(name: string, setting: keyof ReaperSettings): Variable<number> {
  return integer(name, REAPER_DEFAULTS[setting], REAPER_LIMITS[setting]);
}

/** Who may change any cluster, besides its owner: the API function. */
export const ACCESS = {
  admins: optionalList('BILBO_ADMINS', IAM_PRINCIPAL, 'comma-separated IAM user or role ARNs'),
} as const satisfies Section;

/** The name of the variable holding a workflow's state machine ARN: `CREATE_STATE_MACHINE_ARN`. */
export function stateMachineArnVariable(workflow: WorkflowName): string {
  return `${workflow.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_STATE_MACHINE_ARN`;
}

/** These workflows' state machines: for a function that starts them. */
export function workflowArns<W extends WorkflowName>(
  workflows: readonly W[],
): Readonly<Record<W, Variable<string>>> {
  return Object.fromEntries(
    workflows.map((workflow) => [
      workflow,
      text(stateMachineArnVariable(workflow), ARN, `the ${workflow} state machine's ARN`),
    ]),
  ) as Record<W, Variable<string>>;
}

/** Every workflow's state machine: the functions that start any workflow (the API). */
export const WORKFLOW_ARNS = workflowArns(WORKFLOW_NAMES);

/** The workflows a sweep starts: it destroys or pauses clusters (and settles a stuck destroy by destroying again). */
export const SWEEP_STARTS = ['destroy', 'pause'] as const satisfies readonly WorkflowName[];

/** Their state machines: the sweep's function (never its own: a sweep starts no sweep). */
export const SWEEP_WORKFLOW_ARNS = workflowArns(SWEEP_STARTS);

/** The values of one section, checked: throws ConfigurationError naming the first bad variable. */
export function readConfig<S extends Section>(section: S, env: Env = process.env): ConfigOf<S> {
  return Object.fromEntries(
    Object.entries(section).map(([field, variable]) => [field, variable.read(env[variable.name])]),
  ) as ConfigOf<S>;
}

/** The variables that give a function these values (the CDK side of the contract). */
export function environmentOf<S extends Section>(
  section: S,
  values: { readonly [K in keyof S]?: string },
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [field, value] of Object.entries(values)) {
    const variable = section[field];
    if (!variable) throw new Error(`no variable for ${field}`);
    if (value !== undefined) environment[variable.name] = value;
  }
  return environment;
}
