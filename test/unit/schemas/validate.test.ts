import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/domain/errors.ts';
import {
  assertValid,
  problemsOf,
  schemaIds,
  schemas,
  validateCreateClusterRequest,
  validateProfile,
} from '../../../schemas/validate.ts';

const schemaDir = join(import.meta.dirname, '../../../schemas');
const fixtureDir = join(import.meta.dirname, '../../fixtures/profiles');
const fixtures = readdirSync(fixtureDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => [file, JSON.parse(readFileSync(join(fixtureDir, file), 'utf8')) as unknown] as const);

function messageOf(value: unknown, prefix?: string): string {
  return problemsOf(schemaIds.profile, value, 'profile', prefix ? { prefix } : {})
    .map((p) => p.message)
    .join('; ');
}

const gitWith = (repository: unknown) => ({
  notebook: { git: { repository, user: 'u', email: 'u@example.com', password: 'p' } },
});

describe('the schema registry', () => {
  it('registers every schema file under schemas/', () => {
    const onDisk = readdirSync(schemaDir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.schema.json'))
      .map((file) => (JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as { $id: string }).$id)
      .sort();
    expect(schemas.map((schema) => schema.$id).sort()).toEqual(onDisk);
  });

  it('accepts every example given in the schemas', () => {
    let checked = 0;
    for (const schema of schemas) {
      const top = (schema as { examples?: unknown[] }).examples ?? [];
      for (const example of top) {
        expect(assertValid(schema.$id, example, 'example')).toBe(example);
        checked++;
      }
      const definitions =
        (schema as { definitions?: Record<string, { examples?: unknown[] }> }).definitions ?? {};
      for (const [name, definition] of Object.entries(definitions)) {
        for (const example of definition.examples ?? []) {
          expect(assertValid(`${schema.$id}#/definitions/${name}`, example, name)).toBe(example);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });

  it('finds schemas by a path relative to schemas/', () => {
    expect(() => assertValid('api/error.schema.json', { code: 'X' }, 'error')).toThrow(
      'error: missing required field "message"',
    );
  });

  it('refuses an unknown schema id as a programming error', () => {
    expect(() => assertValid('api/nope.schema.json', {}, 'nope')).toThrow('No schema with $id');
  });
});

describe('validateProfile', () => {
  it.each(fixtures)('accepts the original-bilbo profile %s', (_file, profile) => {
    expect(validateProfile(profile)).toEqual(profile);
  });

  it('accepts the empty profile', () => {
    expect(validateProfile({})).toEqual({});
  });

  it('names an unknown field and lists the allowed ones', () => {
    expect(messageOf({ dask: { worker: { cout: 2 } } })).toBe(
      'dask.worker: unknown field "cout"; allowed: instance, nproc, nthread, count',
    );
  });

  it('puts the unknown field itself in ValidationError.field', () => {
    expect(() => validateProfile({ dask: { worker: { cout: 2 } } })).toThrow(
      expect.objectContaining({ field: 'dask.worker.cout', code: 'VALIDATION_FAILED' }),
    );
  });

  it('says which type a field must have and what it got', () => {
    expect(messageOf({ dask: { worker: { count: '2' } } })).toBe(
      'dask.worker.count: must be integer (got string "2")',
    );
  });

  it('states a violated minimum with the value given', () => {
    expect(messageOf({ dask: { worker: { count: 0 } } })).toBe('dask.worker.count: must be >= 1 (got 0)');
  });

  it('states a violated maximum with the value given', () => {
    expect(messageOf({ ready_timeout: 9000 })).toBe('ready_timeout: must be <= 7200 (got 9000)');
  });

  it('shows the pattern a string must match', () => {
    expect(messageOf({ instance: { ami: 'ami-XYZ' } })).toBe(
      'instance.ami: must match ^ami-[0-9a-f]+$ (got "ami-XYZ")',
    );
  });

  it('uses list indices in paths', () => {
    expect(messageOf({ instance: { tags: [['a', 'b'], ['only-key']] } })).toBe(
      'instance.tags.1: must have exactly 2 items (got 1)',
    );
    expect(messageOf({ instance: { tags: [['a', 7]] } })).toBe(
      'instance.tags.0.1: must be a string (got number 7)',
    );
  });

  it('refuses bilbo: tags, in any case, in the common and the role instances, naming the tag and saying why', () => {
    const tags = [
      ['team', 'data'],
      ['Owner', 'ana'],
      ['bilbo:role', 'scheduler'],
    ];

    expect(() => validateProfile({ instance: { tags } }, { prefix: 'profile' })).toThrow(ValidationError);
    expect(() => validateProfile({ instance: { tags } }, { prefix: 'profile' })).toThrow(
      expect.objectContaining({ field: 'profile.instance.tags.2.0' }),
    );
    expect(messageOf({ instance: { tags } })).toBe(
      `instance.tags.2.0: tags starting with "bilbo:" are bilbo's own (it puts bilbo:cluster-id, bilbo:role, bilbo:owner and others on every instance, and trusts them): rename the tag, e.g. without the "bilbo:" prefix (got "bilbo:role")`,
    );
    expect(messageOf({ dask: { worker: { instance: { tags: [['BILBO:managed', 'x']] } } } })).toMatch(
      /^dask\.worker\.instance\.tags\.0\.0: tags starting with "bilbo:" are bilbo's own/,
    );
  });

  it('refuses aws: tags, which EC2 would refuse, and a Name tag, which bilbo sets from instance_prefix', () => {
    expect(messageOf({ instance: { tags: [['aws:cloudformation:stack-name', 'x']] } })).toBe(
      'instance.tags.0.0: the "aws:" prefix is reserved by AWS, and EC2 refuses a launch with such a tag: rename the tag (got "aws:cloudformation:stack-name")',
    );
    expect(messageOf({ notebook: { instance: { tags: [['Name', 'mine']] } } })).toMatch(
      /^notebook\.instance\.tags\.0\.0: bilbo names every instance itself .*set instance_prefix instead of a Name tag \(got "Name"\)$/,
    );
  });

  it('accepts any other tag key, including ones that only look alike', () => {
    const tags = [
      ['name', 'x'],
      ['my-bilbo:x', 'y'],
      ['awsome', 'z'],
      ['Owner', 'data-team'],
    ];

    expect(messageOf({ instance: { tags }, dask: { worker: { instance: { tags } } } })).toBe('');
  });

  it('explains a bad root value', () => {
    expect(messageOf([])).toBe('profile: must be an object (got a list)');
    expect(messageOf(null)).toBe('profile: must be an object (got null)');
    expect(() => validateProfile('x')).toThrow(ValidationError);
  });

  it('names an unknown field at the root with the profile', () => {
    expect(messageOf({ workers: 2 })).toMatch(
      /^profile: unknown field "workers"; allowed: \$schema, description/,
    );
  });

  it('collapses the alternatives of wait_workers into one line', () => {
    expect(messageOf({ wait_workers: 'all' })).toBe(
      'wait_workers: must be true or false, or an integer >= 0 (got string "all")',
    );
  });

  it('reports only the alternative whose type matches the value', () => {
    expect(messageOf({ wait_workers: -1 })).toBe('wait_workers: must be >= 0 (got -1)');
    expect(messageOf(gitWith('http://example.com/repo.git'))).toBe(
      'notebook.git.repository: must be an https:// URL with no user name or password in it (the password goes in notebook.git.password) (got "http://example.com/repo.git")',
    );
    expect(messageOf(gitWith([]))).toBe('notebook.git.repository: must have at least 1 item (got 0)');
  });

  it('collapses the alternatives of a git repository into one line', () => {
    expect(messageOf(gitWith(5))).toBe(
      'notebook.git.repository: must be an https:// URL, or a list of strings with at least 1 item (got number 5)',
    );
  });

  it('gives one message per problem, joined with "; ", the first path in field', () => {
    const profile = { ready_timeout: 5, dask: { worker: { count: 0, nproc: 'two' } } };
    expect(() => validateProfile(profile)).toThrow(
      expect.objectContaining({
        field: 'dask.worker.nproc',
        message:
          'dask.worker.nproc: must be integer (got string "two"); dask.worker.count: must be >= 1 (got 0); ready_timeout: must be >= 30 (got 5)',
      }),
    );
  });

  it('lists every missing required field in one message', () => {
    expect(messageOf({ notebook: { git: { user: 'u' } } })).toBe(
      'notebook.git: missing required fields "repository", "email", "password"',
    );
  });

  it('checks formats', () => {
    expect(
      messageOf({ notebook: { git: { repository: 'https://x', user: 'u', email: 'nope', password: 'p' } } }),
    ).toBe('notebook.git.email: must be a valid email (got "nope")');
  });

  it('prefixes every path when asked, for a profile inside a request', () => {
    expect(() => validateProfile({ dask: { worker: { count: 0 } } }, { prefix: 'profile' })).toThrow(
      expect.objectContaining({
        field: 'profile.dask.worker.count',
        message: 'profile.dask.worker.count: must be >= 1 (got 0)',
      }),
    );
    expect(messageOf(7, 'profile')).toBe('profile: must be an object (got number 7)');
  });
});

describe('validateCreateClusterRequest', () => {
  it('returns a valid request', () => {
    const request = {
      name: 'analytics',
      profile: {},
      overrides: ['dask.worker.count=4'],
      profileName: 'a.json',
    };
    expect(validateCreateClusterRequest(request)).toEqual(request);
  });

  it('names profile fields with the profile. prefix', () => {
    expect(() =>
      validateCreateClusterRequest({ name: 'a', profile: { dask: { worker: { count: 0 } } } }),
    ).toThrow(
      expect.objectContaining({
        field: 'profile.dask.worker.count',
        message: 'profile.dask.worker.count: must be >= 1 (got 0)',
      }),
    );
  });

  it('rejects a request without a profile', () => {
    expect(() => validateCreateClusterRequest({ name: 'a' })).toThrow(
      'request: missing required field "profile"',
    );
  });

  it('rejects an override without "="', () => {
    expect(() => validateCreateClusterRequest({ name: 'a', profile: {}, overrides: ['abc'] })).toThrow(
      'overrides.0: must match ^[^=]+= (got "abc")',
    );
  });
});
