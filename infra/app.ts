import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IAM_PRINCIPAL } from '../lambdas/config.ts';
import { DESTROY_TIMEOUT_SECONDS } from '../lambdas/domain/deadlines.ts';
import { REAPER_LIMITS } from '../lambdas/domain/reaper/limits.ts';
import type { ReaperSettings } from '../lambdas/domain/reaper/rules.ts';
import { BilboStack, type BilboStackProps } from './stacks/bilbo-stack.ts';

/*
 * Configuration comes from CDK context (`npx cdk deploy -c bilbo:allowedCidrs=203.0.113.0/24`, or
 * "context" in cdk.json), is read and checked here only, and reaches the constructs as typed props.
 * Lists are comma-separated strings (or JSON arrays in cdk.json).
 *
 * | key                           | value                                         | default                         |
 * | ----------------------------- | --------------------------------------------- | ------------------------------- |
 * | bilbo:vpcId                   | an existing VPC to run clusters in (vpc-…)    | a new VPC: 2 AZs, public        |
 * |                               |                                               | subnets only, no NAT gateway,   |
 * |                               |                                               | a DynamoDB gateway endpoint     |
 * | bilbo:subnetIds               | its subnets for the clusters and the probe:   | (required with bilbo:vpcId)     |
 * |                               | they must reach DynamoDB (endpoint or NAT),   |                                 |
 * |                               | the instances SSM and what init commands get  |                                 |
 * | bilbo:availabilityZones       | the subnets' AZs, in the same order (the      | (required with bilbo:vpcId)     |
 * |                               | subnet count must be a multiple of theirs)    |                                 |
 * | bilbo:dynamoDbPrefixListId    | the region's DynamoDB prefix list (pl-…): the | HTTPS to any IPv4 address (the  |
 * |                               | only place the probe may reach on 443, but    | created VPC routes it to the    |
 * |                               | SSM (notebook tokens)                         | DynamoDB and SSM endpoints)     |
 * | bilbo:ssmEndpointSecurityGroupId | with bilbo:vpcId and the prefix list: the  | (required then)                 |
 * |                               | group of the VPC's SSM interface endpoint     |                                 |
 * | bilbo:reaperEndpointSecurityGroupIds | likewise: the groups of its EC2 and  | (required then)                 |
 * |                               | Step Functions endpoints (the reaper)         |                                 |
 * | bilbo:allowedCidrs            | CIDRs that may reach 8786, 8787 and 8888      | none: the clusters and probe    |
 * | bilbo:allowedSecurityGroups | security groups a profile may add to the     | none: the cluster's group only  |
 * |                               | cluster's (instance.security_group, sg-…)     |                                 |
 * | bilbo:adminPrincipals         | ARNs of the only users/roles the API admits   | any caller IAM allows           |
 * | bilbo:admins                  | ARNs of users/roles that may destroy (and     | none: only each cluster's owner |
 * |                               | later pause, restart...) anyone's cluster     |                                 |
 * | bilbo:defaultAmi              | the image for profiles without `ami` (ami-…)  | none: profiles name one         |
 * | bilbo:tableDeletionProtection | true or false                                 | true                            |
 * | bilbo:destroyTimeoutSeconds   | how long a destroy waits for the instances to | 600 (60 to 3600)                |
 * |                               | be gone before it records FAILED              |                                 |
 * | bilbo:reapEvery               | minutes between two sweeps of the reaper      | 5 (1 to 1440)                   |
 * | bilbo:maxLifetimeCeiling      | seconds: no cluster lives longer, whatever    | 0: none (0 to 31536000)         |
 * |                               | its profile's max_lifetime                    |                                 |
 * | bilbo:pausedMaxAge            | seconds: a cluster paused this long (without  | 0: never (0 to 31536000)        |
 * |                               | a notebook) is destroyed                      |                                 |
 * | bilbo:orphanGrace             | seconds: how old a tagged instance or volume  | 900 (60 to 86400)               |
 * |                               | of no live cluster must be before removal     |                                 |
 * | bilbo:unknownLooksBeforeFailed | looks that could not tell a READY cluster's  | 3 (0 to 1000; 0: never)         |
 * |                               | activity, its machines gone, before FAILED    |                                 |
 */
export const CONTEXT_KEYS = {
  vpcId: 'bilbo:vpcId',
  subnetIds: 'bilbo:subnetIds',
  availabilityZones: 'bilbo:availabilityZones',
  dynamoDbPrefixListId: 'bilbo:dynamoDbPrefixListId',
  ssmEndpointSecurityGroupId: 'bilbo:ssmEndpointSecurityGroupId',
  reaperEndpointSecurityGroupIds: 'bilbo:reaperEndpointSecurityGroupIds',
  allowedCidrs: 'bilbo:allowedCidrs',
  allowedSecurityGroups: 'bilbo:allowedSecurityGroups',
  adminPrincipals: 'bilbo:adminPrincipals',
  admins: 'bilbo:admins',
  defaultAmi: 'bilbo:defaultAmi',
  tableDeletionProtection: 'bilbo:tableDeletionProtection',
  destroyTimeoutSeconds: 'bilbo:destroyTimeoutSeconds',
  reapEvery: 'bilbo:reapEvery',
  maxLifetimeCeiling: 'bilbo:maxLifetimeCeiling',
  pausedMaxAge: 'bilbo:pausedMaxAge',
  orphanGrace: 'bilbo:orphanGrace',
  unknownLooksBeforeFailed: 'bilbo:unknownLooksBeforeFailed',
} as const;

/** EventBridge rates are whole minutes; a day at most between two sweeps. */
const REAP_EVERY_MINUTES = { min: 1, max: 1440 };

/** A context value bilbo cannot use; the message names the key and what it must be. */
export class ContextError extends Error {
  override name = 'ContextError';
}

export interface BuildAppOptions {
  /** Skip Lambda bundling (assets stay empty): for tests and local mode. @default false */
  skipBundling?: boolean;
  /** Where to write the cloud assembly. @default - CDK_OUTDIR, or a temp folder */
  outdir?: string;
  /** Context values, as `-c key=value` gives them. @default - only what the CDK CLI passes */
  context?: Record<string, unknown>;
}

export const STACK_ID = 'Bilbo';

/**
 * Builds the bilbo app: the one code path behind `cdk synth`, the infra
 * tests and local mode. The AwsSolutions checks run on every synth.
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: BilboStack } {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: {
      ...options.context,
      ...(options.skipBundling ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  const stack = new BilboStack(app, STACK_ID, {
    description: 'bilbo: a team-shared control plane for Dask clusters on EC2',
    ...stackPropsFromContext((key) => app.node.tryGetContext(key)),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

/** The stack's configuration from the `bilbo:*` context keys (see the table above). */
export function stackPropsFromContext(read: (key: string) => unknown): BilboStackProps {
  const vpcId = text(read, CONTEXT_KEYS.vpcId, /^vpc-[0-9a-f]+$/, 'a VPC id (vpc-…)');
  const subnetIds = list(read, CONTEXT_KEYS.subnetIds, /^subnet-[0-9a-z]+$/, 'subnet ids (subnet-…)');
  const availabilityZones = list(
    read,
    CONTEXT_KEYS.availabilityZones,
    /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/,
    'availability zone names (eu-west-1a)',
  );
  const dynamoDbPrefixListId = text(
    read,
    CONTEXT_KEYS.dynamoDbPrefixListId,
    /^pl-[0-9a-f]+$/,
    'a managed prefix list id (pl-…)',
  );
  const ssmEndpointSecurityGroupId = text(
    read,
    CONTEXT_KEYS.ssmEndpointSecurityGroupId,
    /^sg-[0-9a-f]+$/,
    'a security group id (sg-…)',
  );
  const reaperEndpointSecurityGroupIds = list(
    read,
    CONTEXT_KEYS.reaperEndpointSecurityGroupIds,
    /^sg-[0-9a-f]+$/,
    'security group ids (sg-…)',
  );
  const allowedCidrs = list(read, CONTEXT_KEYS.allowedCidrs, CIDR, 'IPv4 or IPv6 CIDRs (203.0.113.0/24)');
  const allowedSecurityGroupIds = list(
    read,
    CONTEXT_KEYS.allowedSecurityGroups,
    /^sg-[0-9a-f]+$/,
    'security group ids (sg-…)',
  );
  const principals = 'IAM user or role ARNs (arn:aws:iam::123456789012:role/data-team)';
  const adminPrincipals = list(read, CONTEXT_KEYS.adminPrincipals, IAM_PRINCIPAL, principals);
  const admins = list(read, CONTEXT_KEYS.admins, IAM_PRINCIPAL, principals);
  const defaultAmi = text(read, CONTEXT_KEYS.defaultAmi, /^ami-[0-9a-f]+$/, 'an AMI id (ami-…)');
  const tableDeletionProtection = flag(read, CONTEXT_KEYS.tableDeletionProtection);
  const destroyTimeoutSeconds = seconds(read, CONTEXT_KEYS.destroyTimeoutSeconds, DESTROY_TIMEOUT_SECONDS);
  const reapEveryMinutes = whole(read, CONTEXT_KEYS.reapEvery, REAP_EVERY_MINUTES, 'minutes');
  const reaper = reaperFromContext(read);

  const open = allowedCidrs.find((cidr) => prefixLength(cidr) < minimumPrefix(cidr));
  if (open) {
    throw new ContextError(
      `${CONTEXT_KEYS.allowedCidrs}: ${open} opens the Dask scheduler, which runs any code it is sent, to too much of the internet ` +
        `(the widest allowed are /${MIN_IPV4_PREFIX} for IPv4 and /${MIN_IPV6_PREFIX} for IPv6); name the networks that need it`,
    );
  }
  if (!vpcId && (subnetIds.length > 0 || availabilityZones.length > 0)) {
    throw new ContextError(
      `${CONTEXT_KEYS.subnetIds} and ${CONTEXT_KEYS.availabilityZones} go with ${CONTEXT_KEYS.vpcId}: set it too, or leave all three out to create a VPC`,
    );
  }
  if (vpcId && (subnetIds.length === 0 || availabilityZones.length === 0)) {
    throw new ContextError(
      `${CONTEXT_KEYS.vpcId} needs ${CONTEXT_KEYS.subnetIds} and ${CONTEXT_KEYS.availabilityZones} (the VPC is not looked up: synth stays offline)`,
    );
  }
  if (vpcId && subnetIds.length % availabilityZones.length !== 0) {
    throw new ContextError(
      `${CONTEXT_KEYS.subnetIds}: ${subnetIds.length} subnets over ${availabilityZones.length} availability zones; give the same number of subnets in each zone, in zone order`,
    );
  }

  if (vpcId && dynamoDbPrefixListId && !ssmEndpointSecurityGroupId) {
    throw new ContextError(
      `${CONTEXT_KEYS.dynamoDbPrefixListId} narrows the probe's HTTPS to DynamoDB, but it also reads notebook tokens from SSM: ` +
        `set ${CONTEXT_KEYS.ssmEndpointSecurityGroupId} to the security group of the VPC's SSM interface endpoint, or leave the prefix list out`,
    );
  }
  if (vpcId && dynamoDbPrefixListId && reaperEndpointSecurityGroupIds.length === 0) {
    throw new ContextError(
      `${CONTEXT_KEYS.dynamoDbPrefixListId} narrows the probe's HTTPS to DynamoDB, but the reaper's sweep, placed as the probe is, also calls EC2 and Step Functions: ` +
        `set ${CONTEXT_KEYS.reaperEndpointSecurityGroupIds} to the security groups of the VPC's EC2 and Step Functions interface endpoints, or leave the prefix list out`,
    );
  }
  if (reaperEndpointSecurityGroupIds.length > 0 && !(vpcId && dynamoDbPrefixListId)) {
    throw new ContextError(
      `${CONTEXT_KEYS.reaperEndpointSecurityGroupIds} goes with ${CONTEXT_KEYS.vpcId} and ${CONTEXT_KEYS.dynamoDbPrefixListId}: ` +
        'without them the sweep reaches EC2 and Step Functions already (the created VPC has its own endpoints)',
    );
  }
  if (ssmEndpointSecurityGroupId && !(vpcId && dynamoDbPrefixListId)) {
    throw new ContextError(
      `${CONTEXT_KEYS.ssmEndpointSecurityGroupId} goes with ${CONTEXT_KEYS.vpcId} and ${CONTEXT_KEYS.dynamoDbPrefixListId}: ` +
        'without them the probe reaches SSM already (the created VPC has its own endpoint)',
    );
  }

  return {
    ...(vpcId ? { existingVpc: { vpcId, subnetIds, availabilityZones } } : {}),
    ...(dynamoDbPrefixListId ? { dynamoDbPrefixListId } : {}),
    ...(ssmEndpointSecurityGroupId ? { ssmEndpointSecurityGroupId } : {}),
    ...(reaperEndpointSecurityGroupIds.length > 0 ? { reaperEndpointSecurityGroupIds } : {}),
    ...(allowedCidrs.length > 0 ? { allowedCidrs } : {}),
    ...(allowedSecurityGroupIds.length > 0 ? { allowedSecurityGroupIds } : {}),
    ...(adminPrincipals.length > 0 ? { adminPrincipals } : {}),
    ...(admins.length > 0 ? { admins } : {}),
    ...(defaultAmi ? { defaultAmi } : {}),
    ...(tableDeletionProtection === undefined ? {} : { tableDeletionProtection }),
    ...(destroyTimeoutSeconds === undefined ? {} : { destroyTimeoutSeconds }),
    ...(reapEveryMinutes === undefined ? {} : { reapEveryMinutes }),
    ...(Object.keys(reaper).length > 0 ? { reaper } : {}),
  };
}

/** The reaper's settings that context sets; the others keep their defaults. */
function reaperFromContext(read: (key: string) => unknown): Partial<ReaperSettings> {
  const settings: Array<[keyof ReaperSettings, string, string]> = [
    ['maxLifetimeCeilingSeconds', CONTEXT_KEYS.maxLifetimeCeiling, 'seconds'],
    ['pausedMaxAgeSeconds', CONTEXT_KEYS.pausedMaxAge, 'seconds'],
    ['orphanGraceSeconds', CONTEXT_KEYS.orphanGrace, 'seconds'],
    ['unknownLooksBeforeFailed', CONTEXT_KEYS.unknownLooksBeforeFailed, 'looks'],
  ];
  const reaper: Partial<ReaperSettings> = {};
  for (const [setting, key, unit] of settings) {
    const value = whole(read, key, REAPER_LIMITS[setting], unit);
    if (value !== undefined) reaper[setting] = value;
  }
  return reaper;
}

/** The widest networks bilbo:allowedCidrs may name: 0.0.0.0/1 plus 128.0.0.0/1 is the whole internet too. */
const MIN_IPV4_PREFIX = 8;
const MIN_IPV6_PREFIX = 32;

function prefixLength(cidr: string): number {
  return Number(cidr.slice(cidr.lastIndexOf('/') + 1));
}

function minimumPrefix(cidr: string): number {
  return cidr.includes(':') ? MIN_IPV6_PREFIX : MIN_IPV4_PREFIX;
}

const CIDR =
  /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$|^[0-9a-f:]+:[0-9a-f:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/i;

function text(read: (key: string) => unknown, key: string, shape: RegExp, what: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !shape.test(value.trim())) {
    throw new ContextError(`${key}: ${JSON.stringify(value)} is not ${what}`);
  }
  return value.trim();
}

function list(read: (key: string) => unknown, key: string, shape: RegExp, what: string): string[] {
  const value = read(key);
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [value];
  const values = items
    .map((item) => (typeof item === 'string' ? item.trim() : item))
    .filter((item) => item !== '');
  for (const item of values) {
    if (typeof item !== 'string' || !shape.test(item)) {
      throw new ContextError(`${key}: ${JSON.stringify(item)} is not one of ${what}`);
    }
  }
  return values as string[];
}

function seconds(
  read: (key: string) => unknown,
  key: string,
  range: { min: number; max: number },
): number | undefined {
  return whole(read, key, range, 'seconds');
}

/** A whole number of `unit` in `range`. */
function whole(
  read: (key: string) => unknown,
  key: string,
  range: { min: number; max: number },
  unit: string,
): number | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isSafeInteger(number) || number < range.min || number > range.max) {
    throw new ContextError(
      `${key}: ${JSON.stringify(value)} is not a whole number of ${unit} from ${range.min} to ${range.max}`,
    );
  }
  return number;
}

function flag(read: (key: string) => unknown, key: string): boolean | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ContextError(`${key}: ${JSON.stringify(value)} is not true or false`);
}
