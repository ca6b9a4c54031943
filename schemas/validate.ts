/**
 * The schemas' validators, compiled once at module load, with messages a
 * person can act on: each names the field (a dotted path) and what it must be.
 */
import { Ajv, type ErrorObject } from 'ajv';
import formats from 'ajv-formats';
import { ValidationError } from '../lambdas/domain/errors.ts';
import clusterSchema from './api/cluster.schema.json' with { type: 'json' };
import commandSchema from './api/command.schema.json' with { type: 'json' };
import commandOutputSchema from './api/command-output.schema.json' with { type: 'json' };
import commonSchema from './api/common.schema.json' with { type: 'json' };
import createClusterRequestSchema from './api/create-cluster.request.schema.json' with { type: 'json' };
import errorSchema from './api/error.schema.json' with { type: 'json' };
import eventSchema from './api/event.schema.json' with { type: 'json' };
import notebookLinkSchema from './api/notebook-link.schema.json' with { type: 'json' };
import planSchema from './api/plan.schema.json' with { type: 'json' };
import startCommandRequestSchema from './api/start-command.request.schema.json' with { type: 'json' };
import sweepSchema from './api/sweep.schema.json' with { type: 'json' };
import sweepReportSchema from './api/sweep-report.schema.json' with { type: 'json' };
import { CUSTOM_FORMATS } from './formats.ts';
import { escapeControlCharacters } from './printable.ts';
import profileSchema from './profile.schema.json' with { type: 'json' };
import type { CreateClusterRequest, Profile, StartCommandRequest } from './types.generated.ts';

const SCHEMA_BASE = 'https://bilbo.dev/schemas/';

/** Every schema under schemas/, registered by its `$id`. */
export const schemas = [
  profileSchema,
  commonSchema,
  createClusterRequestSchema,
  planSchema,
  clusterSchema,
  eventSchema,
  errorSchema,
  commandSchema,
  startCommandRequestSchema,
  commandOutputSchema,
  notebookLinkSchema,
  sweepReportSchema,
  sweepSchema,
] as const;

export const schemaIds = {
  profile: profileSchema.$id,
  createClusterRequest: createClusterRequestSchema.$id,
  plan: planSchema.$id,
  cluster: clusterSchema.$id,
  event: eventSchema.$id,
  error: errorSchema.$id,
  command: commandSchema.$id,
  startCommandRequest: startCommandRequestSchema.$id,
  commandOutput: commandOutputSchema.$id,
  notebookLink: notebookLinkSchema.$id,
  sweepReport: sweepReportSchema.$id,
  sweep: sweepSchema.$id,
} as const;

const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true });
formats.default(ajv);
for (const [name, format] of Object.entries(CUSTOM_FORMATS)) {
  ajv.addFormat(name, { type: 'string', validate: format.validate });
}
ajv.addSchema([...schemas]);

const profileValidator = ajv.getSchema(schemaIds.profile)!;
const requestValidator = ajv.getSchema(schemaIds.createClusterRequest)!;
const startCommandValidator = ajv.getSchema(schemaIds.startCommandRequest)!;

export interface ValidationOptions {
  /** Put before every path, e.g. "profile" so that errors read `profile.dask.worker.count`. */
  prefix?: string;
}

/** One thing wrong with a value: where (dotted path, '' for the root) and the message. */
export interface Problem {
  path: string;
  message: string;
}

export function validateProfile(value: unknown, options: ValidationOptions = {}): Profile {
  return check<Profile>(profileValidator, value, 'profile', options);
}

export function validateCreateClusterRequest(
  value: unknown,
  options: ValidationOptions = {},
): CreateClusterRequest {
  return check<CreateClusterRequest>(requestValidator, value, 'request', options);
}

export function validateStartCommandRequest(value: unknown): StartCommandRequest {
  return check<StartCommandRequest>(startCommandValidator, value, 'request', {});
}

/**
 * Validates against any registered schema, by `$id` or by a path relative to
 * schemas/ (e.g. "api/plan.schema.json"). `what` names the root in messages.
 */
export function assertValid<T>(
  schemaId: string,
  value: unknown,
  what: string,
  options: ValidationOptions = {},
): T {
  return check<T>(validatorFor(schemaId), value, what, options);
}

/** The problems of a value, without throwing; an empty list when it is valid. */
export function problemsOf(
  schemaId: string,
  value: unknown,
  what: string,
  options: ValidationOptions = {},
): Problem[] {
  const validate = validatorFor(schemaId);
  return validate(value) ? [] : describeErrors(validate.errors ?? [], what, options.prefix);
}

type Validator = NonNullable<ReturnType<Ajv['getSchema']>>;

function validatorFor(schemaId: string): Validator {
  const id = schemaId.includes('://') ? schemaId : new URL(schemaId, SCHEMA_BASE).href;
  const validate = ajv.getSchema(id);
  if (!validate) throw new Error(`No schema with $id ${id}`);
  return validate;
}

function check<T>(validate: Validator, value: unknown, what: string, options: ValidationOptions): T {
  if (validate(value)) return value as T;
  const problems = describeErrors(validate.errors ?? [], what, options.prefix);
  const first = problems[0];
  throw new ValidationError(problems.map((p) => p.message).join('; '), {
    ...(first?.path ? { field: first.path } : {}),
  });
}

// ---------------------------------------------------------------- messages

type SchemaNode = Record<string, unknown>;

export function describeErrors(errors: readonly ErrorObject[], what: string, prefix?: string): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const missing = new Map<string, { problem: Problem; names: string[] }>();
  for (const error of collapseAlternatives(errors)) {
    const base = joinPath(prefix, pointerToPath(error.instancePath));
    const at = base || prefix || what;
    if (error.keyword === 'required') {
      const name = String((error.params as { missingProperty?: unknown }).missingProperty);
      const group = missing.get(base);
      if (group) {
        group.names.push(name);
        group.problem.message = `${at}: missing required fields ${group.names.map((n) => JSON.stringify(n)).join(', ')}`;
        continue;
      }
      const problem = {
        path: joinPath(base, name),
        message: `${at}: missing required field ${JSON.stringify(name)}`,
      };
      missing.set(base, { problem, names: [name] });
      problems.push(problem);
      continue;
    }
    const problem = describe(error, base, at);
    if (seen.has(problem.message)) continue;
    seen.add(problem.message);
    problems.push(problem);
  }
  return problems;
}

/**
 * anyOf/oneOf report every failed branch. When the value's type picks exactly
 * one branch, only that branch's errors are kept; otherwise the whole group
 * becomes one line listing the alternatives.
 */
function collapseAlternatives(errors: readonly ErrorObject[]): ErrorObject[] {
  let kept = [...errors];
  const groups = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const group of groups) {
    if (!kept.includes(group)) continue;
    const inside = (e: ErrorObject) => e.schemaPath.startsWith(`${group.schemaPath}/`);
    const branches = Array.isArray(group.schema) ? group.schema.length : 0;
    const typeMatches: number[] = [];
    for (let i = 0; i < branches; i++) {
      const branchPath = `${group.schemaPath}/${i}/`;
      const wrongType = kept.some(
        (e) =>
          e.schemaPath === `${branchPath}type` &&
          e.instancePath === group.instancePath &&
          e.keyword === 'type',
      );
      if (!wrongType) typeMatches.push(i);
    }
    if (typeMatches.length === 1) {
      const branchPath = `${group.schemaPath}/${typeMatches[0]}/`;
      kept = kept.filter((e) => e !== group && (!inside(e) || e.schemaPath.startsWith(branchPath)));
    } else {
      kept = kept.filter((e) => !inside(e));
    }
  }
  return kept;
}

function describe(error: ErrorObject, path: string, at: string): Problem {
  const params = error.params as Record<string, unknown>;
  const got = describeValue(error.data);
  const raw = rawValue(error.data);
  const parent = (error.parentSchema ?? {}) as SchemaNode;
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys((parent.properties as SchemaNode | undefined) ?? {});
      return {
        path: joinPath(path, name),
        message: `${at}: unknown field ${quoted(name)}; allowed: ${allowed.join(', ') || '(none)'}`,
      };
    }
    case 'type':
      return { path, message: `${at}: must be ${typeNames(params.type)} (got ${got})` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `${at}: must be ${params.comparison} ${params.limit} (got ${raw})` };
    case 'pattern':
      return { path, message: `${at}: must match ${params.pattern} (got ${raw})` };
    case 'format': {
      const custom = CUSTOM_FORMATS[params.format as string];
      if (custom) {
        const shown =
          custom.quotable && typeof error.data === 'string' ? rawValue(custom.quotable(error.data)) : raw;
        const requirement =
          custom.explain && typeof error.data === 'string' ? custom.explain(error.data) : custom.requirement;
        return { path, message: `${at}: ${requirement} (got ${shown})` };
      }
      return { path, message: `${at}: must be a valid ${params.format} (got ${raw})` };
    }
    case 'enum':
      return {
        path,
        message: `${at}: must be one of ${(params.allowedValues as unknown[]).join(', ')} (got ${raw})`,
      };
    case 'minItems':
    case 'maxItems': {
      const count = Array.isArray(error.data) ? error.data.length : '?';
      const exact = parent.minItems !== undefined && parent.minItems === parent.maxItems;
      const rule = exact
        ? `exactly ${parent.minItems}`
        : `${error.keyword === 'minItems' ? 'at least' : 'at most'} ${params.limit}`;
      return { path, message: `${at}: must have ${rule} item${plural(rule)} (got ${count})` };
    }
    case 'minLength':
    case 'maxLength': {
      const rule = `${error.keyword === 'minLength' ? 'at least' : 'at most'} ${params.limit}`;
      return { path, message: `${at}: must have ${rule} character${plural(rule)} (got ${raw})` };
    }
    case 'anyOf':
    case 'oneOf': {
      const branches = Array.isArray(error.schema) ? (error.schema as SchemaNode[]) : [];
      const options = branches.map(describeSchema).join(', or ');
      return { path, message: `${at}: must be ${options} (got ${got})` };
    }
    default:
      return { path, message: `${at}: ${error.message ?? 'is not valid'} (got ${got})` };
  }
}

function describeSchema(schema: SchemaNode): string {
  const type = schema.type;
  if (type === 'boolean') return 'true or false';
  if (type === 'integer' || type === 'number') {
    const name = type === 'integer' ? 'an integer' : 'a number';
    return schema.minimum === undefined ? name : `${name} >= ${schema.minimum}`;
  }
  if (type === 'string') {
    if (typeof schema.pattern === 'string') return `a string matching ${schema.pattern}`;
    if (typeof schema.format !== 'string') return 'a string';
    return CUSTOM_FORMATS[schema.format]?.noun ?? `a valid ${schema.format}`;
  }
  if (type === 'array') {
    const items = (schema.items as SchemaNode | undefined)?.type;
    const of = typeof items === 'string' ? ` of ${items}s` : '';
    return typeof schema.minItems === 'number' && schema.minItems > 0
      ? `a list${of} with at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`
      : `a list${of}`;
  }
  if (type === 'object') return 'an object';
  return typeof schema.description === 'string' ? schema.description : 'another kind of value';
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'integer',
  number: 'number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

function typeNames(type: unknown): string {
  const types = Array.isArray(type) ? type : String(type).split(',');
  return types.map((t) => TYPE_NAMES[String(t)] ?? String(t)).join(' or ');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `string ${truncate(quoted(value))}`;
  return `${typeof value} ${String(value)}`;
}

/** The value as the user wrote it: `0`, `"ami-XYZ"`. */
function rawValue(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'string' ? truncate(quoted(value)) : String(value);
  }
  return describeValue(value);
}

/** A JSON string literal with every control character escaped (JSON leaves U+007F–U+009F as they are). */
function quoted(text: string): string {
  return escapeControlCharacters(JSON.stringify(text));
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 76)}…"` : text;
}

function plural(rule: string): string {
  return rule.endsWith(' 1') ? '' : 's';
}

function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.');
}

function joinPath(left: string | undefined, right: string): string {
  if (!left) return right;
  return right ? `${left}.${right}` : left;
}
