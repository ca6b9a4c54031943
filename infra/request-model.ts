/**
 * The API Gateway request model of POST /clusters and POST /plan, built from
 * the request schema in schemas/. API Gateway models are JSON Schema
 * draft-04 and cannot follow our cross-file `$ref`s, so this bundles every
 * schema the request references into one self-contained schema: each
 * referenced schema becomes an entry of `definitions`, each `$ref` points
 * there, and the keywords draft-04 (or API Gateway) does not know are left
 * out. The Lambda still validates the body with the full schemas; the model
 * turns the obvious mistakes away before a Lambda runs.
 */
import { type JsonSchema, JsonSchemaVersion } from 'aws-cdk-lib/aws-apigateway';
import commonSchema from '../schemas/api/common.schema.json' with { type: 'json' };
import createClusterRequestSchema from '../schemas/api/create-cluster.request.schema.json' with {
  type: 'json',
};
import startCommandRequestSchema from '../schemas/api/start-command.request.schema.json' with {
  type: 'json',
};
import { CUSTOM_FORMATS } from '../schemas/formats.ts';
import profileSchema from '../schemas/profile.schema.json' with { type: 'json' };

/** A schema the model cannot carry: an unknown `$ref`, or a keyword draft-04 lacks. */
export class SchemaBundleError extends Error {
  override name = 'SchemaBundleError';
}

/** A schema document as read from schemas/: plain JSON with an absolute `$id`. */
export type SchemaDocument = { $id: string } & Record<string, unknown>;

/** The documents a create-cluster request references, by `$id`. */
export const REQUEST_SCHEMAS: readonly SchemaDocument[] = [
  createClusterRequestSchema,
  commonSchema,
  profileSchema,
  startCommandRequestSchema,
];

/** Keywords that mean the same in draft-04 and later drafts, and that API Gateway accepts; kept as they are. */
export const DRAFT4_KEYWORDS = new Set([
  'type',
  'title',
  'description',
  'enum',
  'multipleOf',
  'maximum',
  'minimum',
  'maxLength',
  'minLength',
  'pattern',
  'items',
  'additionalItems',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'properties',
  'additionalProperties',
  'patternProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
]);

/** Annotations and keywords API Gateway rejects or ignores: dropped (the Lambda's own validation applies them). */
const DROPPED_KEYWORDS = new Set(['$id', '$schema', '$comment', 'examples', 'default', 'format']);

/** Keywords whose value is a map of names to schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties']);
/** Keywords whose value is one schema (some may also be a boolean, or `items` a list). */
const SUBSCHEMAS = new Set(['items', 'additionalItems', 'additionalProperties', 'not']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);

type Json = Record<string, unknown>;

/**
 * Bundles `rootId` and everything it references into one draft-04 schema,
 * in the shape CDK's `Model` takes (`ref` for `$ref`, `schema` for `$schema`).
 * Throws on a keyword it cannot carry over, so a schema change that needs a
 * newer draft fails the synth instead of weakening the model.
 */
export function bundleRequestModel(
  rootId: string = createClusterRequestSchema.$id,
  documents: readonly SchemaDocument[] = REQUEST_SCHEMAS,
): JsonSchema {
  const byId = new Map(documents.map((document) => [document.$id, document]));
  const definitions = new Map<string, JsonSchema>();
  const nameOf = new Map<string, string>();

  const resolve = (ref: string, baseId: string): string => {
    const target = new URL(ref, baseId);
    const documentId = `${target.origin}${target.pathname}`;
    const document = byId.get(documentId);
    if (!document)
      throw new SchemaBundleError(`${baseId}: $ref ${ref} names an unknown schema ${documentId}`);
    const key = `${documentId}${target.hash}`;
    const known = nameOf.get(key);
    if (known) return known;

    const schema = pointer(document, target.hash, key);
    const name = uniqueName(String(schema.title ?? lastSegment(key)), nameOf);
    nameOf.set(key, name);
    definitions.set(name, convert(schema, documentId));
    return name;
  };

  const convert = (schema: Json, baseId: string): JsonSchema => {
    const out: Record<string, unknown> = {};
    for (const [keyword, value] of Object.entries(schema)) {
      if (keyword === 'format' && !('pattern' in schema)) {
        const modelPattern = CUSTOM_FORMATS[value as string]?.modelPattern;
        if (modelPattern) out.pattern = modelPattern;
      }
      if (DROPPED_KEYWORDS.has(keyword) || keyword === 'definitions') continue;
      if (keyword === '$ref') {
        out.ref = `#/definitions/${resolve(value as string, baseId)}`;
      } else if (SCHEMA_MAPS.has(keyword)) {
        out[keyword] = Object.fromEntries(
          Object.entries(value as Record<string, Json>).map(([name, sub]) => [name, convert(sub, baseId)]),
        );
      } else if (SCHEMA_LISTS.has(keyword)) {
        out[keyword] = (value as Json[]).map((sub) => convert(sub, baseId));
      } else if (SUBSCHEMAS.has(keyword) && isObject(value)) {
        out[keyword] = convert(value, baseId);
      } else if (keyword === 'items' && Array.isArray(value)) {
        out[keyword] = (value as Json[]).map((sub) => convert(sub, baseId));
      } else if (keyword === 'required' && Array.isArray(value) && value.length === 0) {
        // draft-04 requires at least one name in `required`.
      } else if (DRAFT4_KEYWORDS.has(keyword)) {
        out[keyword] = value;
      } else {
        throw new SchemaBundleError(
          `${baseId}: keyword ${keyword} has no draft-04 equivalent an API Gateway model can carry`,
        );
      }
    }
    return out as JsonSchema;
  };

  const root = byId.get(rootId);
  if (!root) throw new SchemaBundleError(`no schema has the $id ${rootId}`);
  const body = convert(root, rootId);
  return {
    schema: JsonSchemaVersion.DRAFT4,
    ...body,
    definitions: Object.fromEntries([...definitions].sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** The schema at a `#/a/b` fragment of `document` (the whole document for an empty one). */
function pointer(document: Json, hash: string, key: string): Json {
  const path = hash.replace(/^#\/?/, '');
  let node: unknown = document;
  for (const part of path ? path.split('/') : []) {
    node = isObject(node)
      ? node[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')]
      : undefined;
  }
  if (!isObject(node)) throw new SchemaBundleError(`$ref ${key} points at nothing`);
  return node;
}

function uniqueName(wanted: string, taken: Map<string, string>): string {
  const used = new Set(taken.values());
  const base = wanted.replace(/[^A-Za-z0-9]/g, '') || 'Schema';
  let name = base;
  for (let n = 2; used.has(name); n += 1) name = `${base}${n}`;
  return name;
}

function lastSegment(key: string): string {
  const parts = key.split(/[/#.]/).filter(Boolean);
  return parts.at(-1) ?? 'Schema';
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
