import { describe, expect, it } from 'vitest';
import { InvalidOverrideError } from '../../../../lambdas/domain/errors.ts';
import { applyOverrides, parseOverride } from '../../../../lambdas/domain/profile/overrides.ts';

const profile = () => ({
  description: 'two tags',
  instance: {
    ec2type: 't3.medium',
    tags: [
      ['team', 'data'],
      ['env', 'dev'],
    ],
  },
  dask: { worker: { count: 2 } },
});

describe('applyOverrides', () => {
  it('sets a nested field', () => {
    expect(applyOverrides(profile(), ['dask.worker.count=4'])).toMatchObject({
      dask: { worker: { count: 4 } },
    });
  });

  it('returns a deep copy and leaves the input as it was', () => {
    const input = profile();
    const result = applyOverrides(input, ['instance.tags.0.1=ml']) as ReturnType<typeof profile>;
    expect(input).toEqual(profile());
    expect(result.instance.tags[0]).toEqual(['team', 'ml']);
    expect(result.instance).not.toBe(input.instance);
    expect(applyOverrides(input, [])).not.toBe(input);
  });

  it('applies overrides in order, the last one winning', () => {
    expect(applyOverrides({}, ['ready_timeout=60', 'ready_timeout=120'])).toEqual({ ready_timeout: 120 });
  });

  it('creates missing intermediate objects', () => {
    expect(applyOverrides({}, ['dask.worker.count=4'])).toEqual({ dask: { worker: { count: 4 } } });
    expect(applyOverrides(undefined, ['a.b=1'])).toEqual({ a: { b: 1 } });
  });

  it('indexes lists with numeric segments', () => {
    const result = applyOverrides(profile(), ['instance.tags.1=["env","prod"]']);
    expect(result).toMatchObject({
      instance: {
        tags: [
          ['team', 'data'],
          ['env', 'prod'],
        ],
      },
    });
  });

  it('refuses a list index that does not exist', () => {
    expect(() => applyOverrides(profile(), ['instance.tags.5.1=x'])).toThrow(InvalidOverrideError);
    expect(() => applyOverrides(profile(), ['instance.tags.5.1=x'])).toThrow(
      'instance.tags.5: no such list index (the list has 2 items, 0..1)',
    );
    expect(() => applyOverrides({ l: [] }, ['l.0=x'])).toThrow('l.0: no such list index (the list is empty)');
  });

  it('says a list is absent when an index would address one the profile does not have', () => {
    expect(() => applyOverrides({ instance: {} }, ['instance.tags.5.1=x'])).toThrow(InvalidOverrideError);
    expect(() => applyOverrides({ instance: {} }, ['instance.tags.5.1=x'])).toThrow(
      "instance.tags is absent, so instance.tags.5.1 cannot be set: a list index needs an existing list; set instance.tags itself, e.g. instance.tags='[...]'",
    );
  });

  it('refuses a name where a list index is needed', () => {
    expect(() => applyOverrides(profile(), ['instance.tags.first=x'])).toThrow(
      'instance.tags.first: "first" is not a list index (the list has 2 items, 0..1)',
    );
  });

  it('refuses to go through a value that is not an object or a list', () => {
    expect(() => applyOverrides(profile(), ['description.x=1'])).toThrow(InvalidOverrideError);
    expect(() => applyOverrides(profile(), ['description.x=1'])).toThrow(/^description is a string/);
    expect(() => applyOverrides({ a: null }, ['a.b=1'])).toThrow(/^a is null/);
    expect(() => applyOverrides({ a: [1] }, ['a.0.b=1'])).toThrow(/^a\.0 is a number \(1\)/);
  });

  it('replaces a scalar with an object when the path ends there', () => {
    expect(applyOverrides(profile(), ['description={"x":1}'])).toMatchObject({ description: { x: 1 } });
  });

  it.each([
    ['n=4', 4],
    ['n=-1.5', -1.5],
    ['n=true', true],
    ['n=false', false],
    ['n=null', null],
    ['n="4"', '4'],
    ['n=[1,"a"]', [1, 'a']],
    ['n={"a":{"b":[]}}', { a: { b: [] } }],
    ['n=hello world', 'hello world'],
    ['n=', ''],
    ['n=[1,', '[1,'],
    ['n=a=b', 'a=b'],
    ['n=1e999', '1e999'],
  ])('parses %s as JSON when it parses, as text otherwise', (override, value) => {
    expect(applyOverrides({}, [override])).toEqual({ n: value });
  });

  it.each([
    ['no equals sign', 'dask.worker.count'],
    ['an empty path', '=4'],
    ['a blank path', '  =4'],
    ['an empty segment', 'a..b=1'],
    ['a leading dot', '.a=1'],
    ['a trailing dot', 'a.=1'],
  ])('refuses an override with %s, naming it in field', (_why, override) => {
    expect(() => applyOverrides({}, [override])).toThrow(InvalidOverrideError);
    expect(() => applyOverrides({}, [override])).toThrow(expect.objectContaining({ field: override }));
  });

  it.each(['__proto__.polluted=1', 'constructor.prototype.polluted=1', 'a.__proto__=1', 'prototype=1'])(
    'refuses the prototype-polluting path %s',
    (override) => {
      expect(() => applyOverrides({}, [override])).toThrow(InvalidOverrideError);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it('refuses a value with a prototype-polluting key', () => {
    expect(() => applyOverrides({}, ['a={"__proto__":{"polluted":1}}'])).toThrow(InvalidOverrideError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps a "__proto__" key of the input as plain data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": 1}}') as unknown;
    const result = applyOverrides(input, ['x=1']) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__', 'x']);
    expect(result.polluted).toBeUndefined();
  });

  it('does not walk into inherited properties', () => {
    expect(applyOverrides({}, ['toString.x=1'])).toEqual({ toString: { x: 1 } });
  });

  it('refuses a profile that is not an object', () => {
    expect(() => applyOverrides('text', ['a=1'])).toThrow('the profile is a string ("text"), not an object');
    expect(() => applyOverrides(null, ['a=1'])).toThrow(InvalidOverrideError);
  });

  it.each<[string, unknown, unknown]>([
    ['a number profile', 42, ['a=1']],
    ['a boolean profile', true, ['a.b=1']],
    ['a list profile with a name', [1, 2], ['x=1']],
    ['overrides that are not a list', {}, 'a=1'],
    ['an override that is not a string', {}, [42]],
    ['an undefined override', {}, [undefined]],
    ['a lone "="', {}, ['=']],
    ['only dots', {}, ['...=1']],
    ['a huge index', { l: [1] }, ['l.99999999999999999999=1']],
    ['a leading-zero index', { l: [1, 2] }, ['l.01=1']],
    ['a negative index', { l: [1] }, ['l.-1=1']],
    ['a path through a function', { f: () => 1 }, ['f.x=1']],
  ])('throws InvalidOverrideError, never a TypeError, for %s', (_what, input, overrides) => {
    expect(() => applyOverrides(input, overrides as string[])).toThrow(InvalidOverrideError);
  });

  it('sets a list element when the list is the profile itself', () => {
    expect(applyOverrides([1, 2], ['1=3'])).toEqual([1, 3]);
  });
});

describe('parseOverride', () => {
  it('splits on the first "=" only', () => {
    expect(parseOverride('notebook.git.password=a=b')).toEqual({
      path: ['notebook', 'git', 'password'],
      value: 'a=b',
    });
  });
});
