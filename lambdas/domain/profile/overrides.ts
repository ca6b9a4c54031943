/**
 * `-o key.path=value` overrides of a profile. Pure: the input is never
 * changed; the result is validated against the schema afterwards, by the caller.
 */
import { InvalidOverrideError } from '../errors.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const LIST_INDEX = /^(0|[1-9][0-9]*)$/;

type Container = Record<string, unknown> | unknown[];

/** Applies the overrides in order to a deep copy of the profile and returns it. */
export function applyOverrides(profile: unknown, overrides: readonly string[]): unknown {
  if (!Array.isArray(overrides)) {
    throw new InvalidOverrideError('overrides must be a list of "key.path=value" strings');
  }
  let result = deepCopy(profile);
  for (const override of overrides) {
    result = applyOne(result, override);
  }
  return result;
}

export interface ParsedOverride {
  path: string[];
  value: unknown;
}

/** Splits `key.path=value` on the first `=`; the value is JSON when it parses, else the text itself. */
export function parseOverride(override: string): ParsedOverride {
  if (typeof override !== 'string') {
    throw new InvalidOverrideError(
      `override ${describe(override)} must be a string like dask.worker.count=4`,
    );
  }
  const field = override;
  const equals = override.indexOf('=');
  if (equals < 0) {
    throw new InvalidOverrideError(
      `override "${override}" has no "=": write it as key.path=value, e.g. dask.worker.count=4`,
      {
        field,
      },
    );
  }
  const key = override.slice(0, equals);
  if (key.trim() === '') {
    throw new InvalidOverrideError(
      `override "${override}" has an empty key path: write it as key.path=value`,
      {
        field,
      },
    );
  }
  const path = key.split('.');
  if (path.some((segment) => segment === '')) {
    throw new InvalidOverrideError(
      `override "${override}": "${key}" has an empty segment; separate field names with single dots, e.g. dask.worker.count`,
      { field },
    );
  }
  const forbidden = path.find((segment) => FORBIDDEN_KEYS.has(segment));
  if (forbidden !== undefined) {
    throw new InvalidOverrideError(`override "${override}": "${forbidden}" cannot be set`, { field });
  }
  const value = parseValue(override.slice(equals + 1));
  if (hasForbiddenKey(value)) {
    throw new InvalidOverrideError(`override "${override}": the value has a key that cannot be set`, {
      field,
    });
  }
  return { path, value };
}

function applyOne(profile: unknown, override: string): unknown {
  const { path, value } = parseOverride(override);
  const field = override;
  const root: unknown = profile === undefined ? {} : profile;
  if (!isContainer(root)) {
    throw new InvalidOverrideError(
      `cannot apply "${override}": the profile is ${describe(root)}, not an object`,
      {
        field,
      },
    );
  }
  let node: Container = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const here = path.slice(0, i + 1).join('.');
    const last = i === path.length - 1;
    if (Array.isArray(node)) {
      const index = listIndex(node, segment, here, field);
      if (last) {
        node[index] = value;
        return root;
      }
      const next = node[index];
      if (!isContainer(next)) throw notAContainer(here, next, path.join('.'), field);
      node = next;
      continue;
    }
    if (last) {
      node[segment] = value;
      return root;
    }
    const next: unknown = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (next === undefined && LIST_INDEX.test(path[i + 1]!)) {
      // A list index can only address a list that exists: made up, it would be an object.
      throw new InvalidOverrideError(
        `${here} is absent, so ${path.join('.')} cannot be set: a list index needs an existing list; set ${here} itself, e.g. ${here}='[...]'`,
        { field },
      );
    }
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      node[segment] = created;
      node = created;
      continue;
    }
    if (!isContainer(next)) throw notAContainer(here, next, path.join('.'), field);
    node = next;
  }
  return root;
}

function listIndex(list: unknown[], segment: string, here: string, field: string): number {
  const range =
    list.length === 0
      ? 'the list is empty'
      : `the list has ${list.length} item${list.length === 1 ? '' : 's'}, 0..${list.length - 1}`;
  if (!LIST_INDEX.test(segment)) {
    throw new InvalidOverrideError(`${here}: "${segment}" is not a list index (${range})`, { field });
  }
  const index = Number(segment);
  if (index >= list.length) {
    throw new InvalidOverrideError(`${here}: no such list index (${range})`, { field });
  }
  return index;
}

function notAContainer(here: string, value: unknown, target: string, field: string): InvalidOverrideError {
  return new InvalidOverrideError(
    `${here} is ${describe(value)}, not an object or a list, so ${target} cannot be set; set ${here} itself instead`,
    { field },
  );
}

function parseValue(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    // 1e999 parses to Infinity, which JSON cannot hold: keep the text.
    if (typeof value === 'number' && !Number.isFinite(value)) return text;
    return value;
  } catch {
    return text;
  }
}

function hasForbiddenKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasForbiddenKey);
  if (value === null || typeof value !== 'object') return false;
  return Object.keys(value).some(
    (key) => FORBIDDEN_KEYS.has(key) || hasForbiddenKey((value as Record<string, unknown>)[key]),
  );
}

function isContainer(value: unknown): value is Container {
  return value !== null && typeof value === 'object';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string')
    return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)})`;
  if (typeof value === 'number' || typeof value === 'boolean')
    return `${typeof value === 'number' ? 'a number' : 'a boolean'} (${value})`;
  return `a ${typeof value}`;
}

/** Copies lists and plain objects; keys such as "__proto__" stay plain data, never a prototype. */
function deepCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepCopy);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    Object.defineProperty(copy, key, {
      value: deepCopy((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}
