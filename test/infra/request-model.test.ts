import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundleRequestModel,
  DRAFT4_KEYWORDS,
  REQUEST_SCHEMAS,
  SchemaBundleError,
  type SchemaDocument,
} from '../../infra/request-model.ts';
import { ValidationError } from '../../lambdas/domain/errors.ts';
import createClusterRequestSchema from '../../schemas/api/create-cluster.request.schema.json' with {
  type: 'json',
};
import profileSchema from '../../schemas/profile.schema.json' with { type: 'json' };
import { validateCreateClusterRequest, validateStartCommandRequest } from '../../schemas/validate.ts';
import { type Synthesized, synthesize } from './synth.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

type Json = Record<string, unknown>;

/** Every schema object of a draft-04 schema (walking only the keywords that hold schemas). */
function schemaNodes(schema: Json): Json[] {
  const children: unknown[] = [];
  for (const [keyword, value] of Object.entries(schema)) {
    if (['properties', 'patternProperties', 'definitions'].includes(keyword)) {
      children.push(...Object.values(value as Json));
    } else if (
      ['allOf', 'anyOf', 'oneOf'].includes(keyword) ||
      (keyword === 'items' && Array.isArray(value))
    ) {
      children.push(...(value as unknown[]));
    } else if (['items', 'additionalItems', 'additionalProperties', 'not'].includes(keyword)) {
      children.push(value);
    }
  }
  const objects = children.filter((child): child is Json => typeof child === 'object' && child !== null);
  return [schema, ...objects.flatMap(schemaNodes)];
}

/** The model API Gateway knows by `name`, with its logical id. */
function modelNamed(synth: Synthesized, name: string): { id: string; schema: Json } {
  const models = Object.entries(synth.template.findResources('AWS::ApiGateway::Model')).filter(
    ([, model]) => model.Properties.Name === name,
  );
  expect(models, name).toHaveLength(1);
  const [id, model] = models[0]!;
  return { id, schema: model.Properties.Schema as Json };
}

/** The path part a method's resource adds (`clusters`, `{name}`, `commands`). */
function resourcePath(synth: Synthesized, resourceId: string): string {
  return synth.template.findResources('AWS::ApiGateway::Resource')[resourceId]?.Properties.PathPart;
}

/**
 * Every keyword a model keeps means the same in draft-04 and draft-07 (see the keyword test), so
 * the installed draft-07 Ajv gives draft-04's answers once `$schema` is left out.
 */
function draft7Validator(model: Json): ValidateFunction {
  const { $schema: _draft4, ...rest } = model;
  return new Ajv({ allErrors: true, allowUnionTypes: true }).compile(rest);
}

function profiles(dir: string): Array<[string, unknown]> {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => [name, JSON.parse(readFileSync(join(dir, name), 'utf8'))]);
}

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});
afterAll(() => synth.cleanup());

describe('the request model of POST /clusters and POST /plan', () => {
  let model: Json;
  let validate: ValidateFunction;

  beforeAll(() => {
    model = modelNamed(synth, 'CreateClusterRequest').schema;
    validate = draft7Validator(model);
  });

  it('is a draft-04 schema whose only references are to its own definitions', () => {
    const refs = schemaNodes(model).flatMap((node) => (typeof node.$ref === 'string' ? [node.$ref] : []));
    const definitions = model.definitions as Json;

    expect(model.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/definitions\/\w+$/);
      expect(definitions[ref.replace('#/definitions/', '')], ref).toBeDefined();
    }
  });

  it('uses only keywords draft-04 and API Gateway know, without ids, examples, defaults or formats', () => {
    const allowed = new Set([...DRAFT4_KEYWORDS, '$schema', '$ref', 'definitions']);
    const keywords = new Set(schemaNodes(model).flatMap((node) => Object.keys(node)));

    expect([...keywords].filter((keyword) => !allowed.has(keyword))).toEqual([]);
    for (const dropped of ['$id', 'examples', 'default', 'format']) expect(keywords).not.toContain(dropped);
    for (const kept of [
      'additionalProperties',
      'required',
      'pattern',
      'minimum',
      'maxItems',
      'maxLength',
      'anyOf',
    ]) {
      expect(keywords, kept).toContain(kept);
    }
  });

  it('accepts the schema examples', () => {
    const requests = [
      ...createClusterRequestSchema.examples,
      ...profileSchema.examples.map((profile) => ({ name: 'example', profile })),
    ];

    for (const request of requests) expect(validate(request), JSON.stringify(validate.errors)).toBe(true);
  });

  it('accepts every example and fixture profile the API accepts', () => {
    const all = [
      ...profiles(join(REPO_ROOT, 'examples')),
      ...profiles(join(REPO_ROOT, 'test', 'fixtures', 'profiles')),
    ];

    expect(all.length).toBeGreaterThan(5);
    for (const [name, profile] of all) {
      const request = { name: 'fixture', profile };
      expect(() => validateCreateClusterRequest(request), name).not.toThrow();
      expect(validate(request), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it.each([
    ['an unknown field', { name: 'a', profile: {}, colour: 'red' }],
    ['an unknown profile field', { name: 'a', profile: { dask: { worker: { colour: 'red' } } } }],
    ['a missing profile', { name: 'a' }],
    ['a bad cluster name', { name: 'Not A Name', profile: {} }],
    ['a worker count below 1', { name: 'a', profile: { dask: { worker: { count: 0 } } } }],
    ['a tag with three parts', { name: 'a', profile: { instance: { tags: [['k', 'v', 'x']] } } }],
    ['an override without "="', { name: 'a', profile: {}, overrides: ['dask.worker.count'] }],
    [
      'an http git repository',
      {
        name: 'a',
        profile: { notebook: { git: { repository: 'http://x', user: 'u', email: 'e', password: 'p' } } },
      },
    ],
  ])('rejects %s, as the API does', (_what, request) => {
    expect(validate(request)).toBe(false);
    expect(() => validateCreateClusterRequest(request)).toThrow(ValidationError);
  });

  it('is what POST /clusters and POST /plan validate their body against (restart takes none)', () => {
    const methods = Object.values(synth.template.findResources('AWS::ApiGateway::Method')).map(
      (m) => m.Properties,
    );
    const { id: modelId } = modelNamed(synth, 'CreateClusterRequest');
    const posts = methods.filter(
      (method) => method.HttpMethod === 'POST' && method.RequestModels?.['application/json']?.Ref === modelId,
    );
    const validators = synth.template.findResources('AWS::ApiGateway::RequestValidator');

    expect(posts.map((post) => resourcePath(synth, post.ResourceId.Ref)).sort()).toEqual([
      'clusters',
      'plan',
    ]);
    for (const post of posts) {
      expect(validators[post.RequestValidatorId.Ref]?.Properties).toMatchObject({
        ValidateRequestBody: true,
      });
    }
  });
});

describe('the request model of POST /clusters/{name}/commands', () => {
  let validate: ValidateFunction;
  beforeAll(() => {
    validate = draft7Validator(modelNamed(synth, 'StartCommandRequest').schema);
  });

  it.each([
    ['a command', { command: 'nproc', target: 'all' }],
    ['a command with a timeout and a restart', { command: 'true', timeoutSeconds: 60, restartAfter: true }],
    [
      'a notebook with parameters',
      { run: { file: 'report.ipynb', content: 'e30=', parameters: { month: '2026-12', n: 3, dry: true } } },
    ],
    ['the unsaved-work check', { check: 'unsaved-work' }],
  ])('accepts %s, as the API does', (_what, request) => {
    expect(validate(request), JSON.stringify(validate.errors)).toBe(true);
    expect(() => validateStartCommandRequest(request)).not.toThrow();
  });

  it.each([
    ['an unknown field', { command: 'true', sudo: true }],
    ['a target with shell metacharacters', { command: 'true', target: 'all;rm' }],
    ['a file with a folder', { run: { file: '../x.py', content: '' } }],
    ['content that is not base64', { run: { file: 'x.py', content: 'not base64!' } }],
    [
      'a parameter that is not an identifier',
      { run: { file: 'x.py', content: '', parameters: { 'a-b': 1 } } },
    ],
    ['a parameter that is an object', { run: { file: 'x.py', content: '', parameters: { a: {} } } }],
    ['a timeout of two years', { command: 'true', timeoutSeconds: 63_072_000 }],
    ['an unknown check', { check: 'everything' }],
  ])('rejects %s, as the API does', (_what, request) => {
    expect(validate(request)).toBe(false);
    expect(() => validateStartCommandRequest(request)).toThrow(ValidationError);
  });

  it('is what POST /clusters/{name}/commands validates its body against', () => {
    const { id } = modelNamed(synth, 'StartCommandRequest');
    const posts = Object.values(synth.template.findResources('AWS::ApiGateway::Method'))
      .map((method) => method.Properties)
      .filter((method) => method.RequestModels?.['application/json']?.Ref === id);

    expect(posts.map((post) => [post.HttpMethod, resourcePath(synth, post.ResourceId.Ref)])).toEqual([
      ['POST', 'commands'],
    ]);
    expect(posts[0]!.RequestValidatorId).toBeDefined();
  });
});

describe('bundleRequestModel', () => {
  const base = 'https://bilbo.dev/schemas/test/';

  it('refuses a keyword draft-04 lacks rather than drop a rule', () => {
    const documents: SchemaDocument[] = [
      { $id: `${base}root.json`, type: 'object', propertyNames: { maxLength: 3 } },
    ];

    expect(() => bundleRequestModel(`${base}root.json`, documents)).toThrow(SchemaBundleError);
  });

  it('refuses a reference to a schema it was not given', () => {
    const documents: SchemaDocument[] = [{ $id: `${base}root.json`, $ref: 'other.json#/definitions/x' }];

    expect(() => bundleRequestModel(`${base}root.json`, documents)).toThrow(SchemaBundleError);
  });

  it('follows relative references across files into one definition each', () => {
    const documents: SchemaDocument[] = [
      {
        $id: `${base}api/root.json`,
        properties: {
          a: { $ref: '../shared.json#/definitions/word' },
          b: { $ref: '../shared.json#/definitions/word' },
        },
      },
      {
        $id: `${base}shared.json`,
        definitions: { word: { title: 'Word', type: 'string', format: 'hostname' } },
      },
    ];

    expect(bundleRequestModel(`${base}api/root.json`, documents)).toEqual({
      schema: 'http://json-schema.org/draft-04/schema#',
      properties: { a: { ref: '#/definitions/Word' }, b: { ref: '#/definitions/Word' } },
      definitions: { Word: { title: 'Word', type: 'string' } },
    });
  });

  it('bundles the real request schemas', () => {
    expect(REQUEST_SCHEMAS.map((document) => document.$id)).toContain(createClusterRequestSchema.$id);
    expect(Object.keys(bundleRequestModel().definitions ?? {})).toEqual(
      expect.arrayContaining(['ClusterName', 'Profile', 'InstanceSpec', 'ProfileOverride']),
    );
  });
});
