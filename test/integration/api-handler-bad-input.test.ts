/**
 * Every bad request to the API handler is a 4xx with a body of exactly
 * `{ code, message, field? }` whose message says where the problem is, and
 * nothing is recorded or started.
 */
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../lambdas/handlers/http/middleware.ts';
import type { ApiError } from '../../schemas/types.generated.ts';
import { assertValid, schemaIds } from '../../schemas/validate.ts';
import type { ApiRequest } from '../support/api-events.ts';
import { PROFILE, useApiHarness } from '../support/api-harness.ts';

const api = useApiHarness();
const { call, create, everything } = api;

interface BadInput {
  what: string;
  method?: string;
  path?: string;
  request: ApiRequest;
  status: number;
  code: string;
  field?: string;
  /** The message must say where the problem is. */
  names: RegExp;
}

const named = (name: string): ApiRequest => ({ body: { name, profile: PROFILE } });
const overridden = (...overrides: string[]): ApiRequest => ({
  body: { name: 'analytics', profile: PROFILE, overrides },
});

function gitWith(repository: string | string[]) {
  return { repository, user: 'bob', email: 'bob@example.com', password: 's3cret' };
}

const BAD_INPUTS: BadInput[] = [
  {
    what: 'malformed JSON',
    request: { body: '{"name":' },
    status: 400,
    code: 'INVALID_JSON',
    names: /request body is not valid JSON/,
  },
  {
    what: 'a JSON array body',
    request: { body: [{ name: 'analytics', profile: PROFILE }] },
    status: 400,
    code: 'VALIDATION_FAILED',
    names: /request: must be an object/,
  },
  {
    what: 'no content type',
    request: { body: { name: 'analytics', profile: PROFILE }, contentType: null },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    names: /Content-Type: application\/json/,
  },
  {
    what: 'a text/plain body',
    request: { body: { name: 'analytics', profile: PROFILE }, contentType: 'text/plain' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    names: /Content-Type: application\/json/,
  },
  {
    what: 'a field of the wrong type',
    request: { body: { name: 'analytics', profile: { dask: { worker: { count: 'two' } } } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.dask.worker.count',
    names: /profile\.dask\.worker\.count: must be integer/,
  },
  {
    what: 'an unknown top-level field',
    request: { body: { name: 'analytics', profile: PROFILE, workers: 3 } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'workers',
    names: /unknown field "workers"; allowed: name, profile, profileName, overrides/,
  },
  {
    what: 'an unknown nested field',
    request: { body: { name: 'analytics', profile: { dask: { worker: { cout: 3 } } } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.dask.worker.cout',
    names: /profile\.dask\.worker: unknown field "cout"; allowed: instance, nproc, nthread, count/,
  },
  ...['../etc', 'a;rm -rf', 'a$(id)', 'a`id`', 'Analytics', `a${'b'.repeat(39)}`, ''].map(
    (name): BadInput => ({
      what: `the name ${JSON.stringify(name)}`,
      request: named(name),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'name',
      names: /^name: must match/,
    }),
  ),
  {
    what: 'an override without "="',
    request: overridden('dask.worker.count'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'overrides.0',
    names: /overrides\.0: must match/,
  },
  {
    what: 'an override of a list index that does not exist',
    request: {
      body: {
        name: 'analytics',
        profile: { instance: { tags: [['team', 'data']] } },
        overrides: ['instance.tags.3.1=x'],
      },
    },
    status: 400,
    code: 'INVALID_OVERRIDE',
    field: 'instance.tags.3.1=x',
    names: /instance\.tags\.3: no such list index \(the list has 1 item/,
  },
  {
    what: 'an override of __proto__',
    request: overridden('__proto__.x=1'),
    status: 400,
    code: 'INVALID_OVERRIDE',
    field: '__proto__.x=1',
    names: /override "__proto__\.x=1": "__proto__" cannot be set/,
  },
  {
    what: 'an override that makes the profile invalid',
    request: overridden('dask.worker.count=0'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.dask.worker.count',
    names: /profile\.dask\.worker\.count: must be >= 1 \(got 0\)/,
  },
  {
    what: 'a bilbo: tag in the profile',
    request: {
      body: {
        name: 'analytics',
        profile: {
          instance: {
            tags: [
              ['team', 'data'],
              ['Owner', 'ana'],
              ['bilbo:owner', 'mallory'],
            ],
          },
        },
      },
    },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.instance.tags.2.0',
    names: /profile\.instance\.tags\.2\.0: tags starting with "bilbo:" are bilbo's own .*rename the tag/,
  },
  {
    what: 'an aws: tag set by an override',
    request: overridden('instance.tags=[["aws:x","y"]]'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.instance.tags.0.0',
    names: /profile\.instance\.tags\.0\.0: the "aws:" prefix is reserved by AWS/,
  },
  {
    what: 'a ray section',
    request: { body: { name: 'analytics', profile: { ray: {} } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.ray',
    names: /ray clusters are not supported yet/,
  },
  {
    what: 'a notebook workdir outside the dask user’s home',
    request: { body: { name: 'analytics', profile: { notebook: { workdir: '/etc/bilbo' } } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.notebook.workdir',
    names: /must be a folder under the dask user's home/,
  },
  {
    what: 'a git repository over http',
    request: {
      body: { name: 'analytics', profile: { notebook: { git: gitWith('http://git.example.com/r.git') } } },
    },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.notebook.git.repository',
    names: /must be an https:\/\/ URL/,
  },
  {
    what: 'a git repository, in a list, with a password in its URL (which the message does not repeat)',
    request: {
      body: {
        name: 'analytics',
        profile: {
          notebook: {
            git: gitWith(['https://git.example.com/a.git', 'https://bob:hunter2@git.example.com/b.git']),
          },
        },
      },
    },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.notebook.git.repository.1',
    names: /no user name or password in it .*\(got "https:\/\/…@git\.example\.com\/b\.git"\)/,
  },
  {
    what: 'a body over the size limit',
    request: { body: { name: 'analytics', profile: { description: 'x'.repeat(MAX_BODY_BYTES) } } },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    names: /request body is \d+ bytes; the limit is 65536/,
  },
  {
    what: 'an unknown route',
    method: 'PUT',
    path: '/clusters/analytics',
    request: {},
    status: 404,
    code: 'ROUTE_NOT_FOUND',
    names: /no route PUT \/clusters\/analytics/,
  },
  {
    what: 'an encoded path traversal in the name',
    method: 'GET',
    path: '/clusters/%2F..%2Fetc',
    request: {},
    status: 400,
    code: 'INVALID_CLUSTER_NAME',
    field: 'name',
    names: /"\/\.\.\/etc" is not a valid cluster name/,
  },
  {
    what: 'a malformed percent-encoding in the name',
    method: 'GET',
    path: '/clusters/a%E0%A4%A',
    request: {},
    status: 400,
    code: 'INVALID_CLUSTER_NAME',
    field: 'name',
    names: /not a valid cluster name/,
  },
  {
    what: 'a "%" in a name API Gateway already decoded',
    method: 'DELETE',
    path: '/clusters/100%25',
    request: { pathParameters: { name: '100%' } },
    status: 400,
    code: 'INVALID_CLUSTER_NAME',
    field: 'name',
    names: /not a valid cluster name/,
  },
  {
    what: 'a billion workers',
    request: { body: { name: 'analytics', profile: { dask: { worker: { count: 1e9 } } } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.dask.worker.count',
    names: /profile\.dask\.worker\.count: must be <= 1000 \(got 1000000000\)/,
  },
  {
    what: 'a worker count past the largest safe integer',
    request: { body: { name: 'analytics', profile: { dask: { worker: { count: 2 ** 53 } } } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.dask.worker.count',
    names: /must be <= 1000/,
  },
  {
    what: 'a max_lifetime of 1e300 seconds',
    request: { body: { name: 'analytics', profile: { ...PROFILE, max_lifetime: 1e300 } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.max_lifetime',
    names: /profile\.max_lifetime: must be <= 31536000 \(got 1e\+300\)/,
  },
  {
    what: 'a root volume of 1e300 GiB',
    request: { body: { name: 'analytics', profile: { ...PROFILE, instance: { vol_size: 1e300 } } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.instance.vol_size',
    names: /profile\.instance\.vol_size: must be <= 16384/,
  },
  {
    what: 'a huge override value',
    request: overridden('dask.worker.nproc=1e300'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.dask.worker.nproc',
    names: /profile\.dask\.worker\.nproc: must be <= 256/,
  },
  {
    what: 'a field given twice',
    request: { body: '{"name":"analytics","profile":{"dask":{},"dask":{"worker":{"count":2}}}}' },
    status: 400,
    code: 'INVALID_JSON',
    field: 'profile.dask',
    names: /^profile\.dask: the field is given twice; give it once$/,
  },
  {
    what: 'a profile name carrying a terminal escape',
    request: { body: { name: 'analytics', profile: PROFILE, profileName: 'x\u001b[2J\u001b[Hrm -rf' } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profileName',
    names: /profileName: must not contain control characters such as terminal escapes \(got "x\\u001b\[2J/,
  },
  {
    what: 'a tag value carrying a C1 control character',
    request: {
      body: { name: 'analytics', profile: { ...PROFILE, instance: { tags: [['team', 'a\u009bb']] } } },
    },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.instance.tags.0.1',
    names: /must not contain control characters.*"a\\u009bb"/,
  },
  {
    what: 'a description with a bell and a carriage return',
    request: { body: { name: 'analytics', profile: { ...PROFILE, description: 'ok\u0007\rfake' } } },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'profile.description',
    names: /must not contain control characters/,
  },
  {
    what: 'an unknown cluster',
    method: 'GET',
    path: '/clusters/nobody',
    request: {},
    status: 404,
    code: 'CLUSTER_NOT_FOUND',
    names: /No cluster named "nobody"/,
  },
  {
    what: 'the events of an unknown cluster',
    method: 'GET',
    path: '/clusters/nobody/events',
    request: {},
    status: 404,
    code: 'CLUSTER_NOT_FOUND',
    names: /No cluster named "nobody"/,
  },
  {
    what: 'the destroy of an unknown cluster',
    method: 'DELETE',
    path: '/clusters/nobody',
    request: {},
    status: 404,
    code: 'CLUSTER_NOT_FOUND',
    names: /No cluster named "nobody"/,
  },
];

describe('the API handler, given bad input', () => {
  it.each(BAD_INPUTS)('answers $status $code for $what, and records nothing', async (bad) => {
    const answer = await call<ApiError>(bad.method ?? 'POST', bad.path ?? '/clusters', bad.request);

    expect(answer.status).toBe(bad.status);
    expect(() => assertValid(schemaIds.error, answer.body, 'error')).not.toThrow();
    expect(answer.body).toEqual({
      code: bad.code,
      message: expect.stringMatching(bad.names),
      ...(bad.field === undefined ? {} : { field: bad.field }),
    });
    expect(await everything()).toEqual([]);
    expect(api.workflows.started).toEqual([]);
  });

  it.each(BAD_INPUTS.filter((bad) => !bad.method))(
    'answers $status $code to POST /plan for $what too',
    async (bad) => {
      const answer = await call<ApiError>('POST', '/plan', bad.request);

      expect(answer.status).toBe(bad.status);
      expect(answer.body.code).toBe(bad.code);
    },
  );

  it('accepts the content type header in any letter case', async () => {
    const answer = await call('POST', '/clusters', {
      ...named('analytics'),
      contentTypeHeader: 'Content-type',
    });

    expect(answer.status).toBe(202);
  });

  it.each(['x'.repeat(2000), 'garbage', '\u0000', '2026-01-01T00:00:00.000Z'])(
    'answers 400 for an events cursor no event id could be (%#)',
    async (after) => {
      await create('analytics');

      const answer = await call<ApiError>('GET', '/clusters/analytics/events', { query: { after } });

      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'after',
        message: expect.stringMatching(/^after: must be the id of an event this API returned/),
      });
    },
  );

  it.each(['21', '-1', '1.5', 'soon', '', '020'])(
    'answers 400 for an events wait of %j seconds',
    async (wait) => {
      await create('analytics');

      const answer = await call<ApiError>('GET', '/clusters/analytics/events', { query: { wait } });

      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        field: 'wait',
        message: expect.stringMatching(/^wait: must be a whole number of seconds from 0 to 20/),
      });
    },
  );

  it('answers at once with the events there are when asked to wait for some', async () => {
    await create('analytics');

    const answer = await call<{ events: unknown[] }>('GET', '/clusters/analytics/events', {
      query: { wait: '20' },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.events).toHaveLength(1);
  });

  it('pages after a real event id', async () => {
    await create('analytics');
    const all = await call<{ events: Array<{ id: string }> }>('GET', '/clusters/analytics/events');

    const answer = await call<{ events: unknown[] }>('GET', '/clusters/analytics/events', {
      query: { after: all.body.events[0]!.id },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.events).toEqual([]);
  });
});
