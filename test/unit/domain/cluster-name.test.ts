import { describe, expect, it } from 'vitest';
import {
  assertClusterName,
  clusterNameFrom,
  isValidClusterName,
} from '../../../lambdas/domain/cluster-name.ts';
import { InvalidClusterNameError } from '../../../lambdas/domain/errors.ts';

describe('clusterNameFrom', () => {
  it('takes the explicit -c name over the profile file', () => {
    expect(clusterNameFrom({ explicit: 'nightly-etl', profileFile: 'analytics.json' })).toBe('nightly-etl');
  });

  it('takes the profile file base name without .json, lower-cased', () => {
    expect(clusterNameFrom({ profileFile: 'Analytics.json' })).toBe('analytics');
    expect(clusterNameFrom({ profileFile: '/home/me/.bilbo/profiles/etl-2.json' })).toBe('etl-2');
    expect(clusterNameFrom({ profileFile: 'plain' })).toBe('plain');
  });

  it('suggests -c when the file name is not a valid cluster name', () => {
    expect(() => clusterNameFrom({ profileFile: 'my_cluster.json' })).toThrow(InvalidClusterNameError);
    expect(() => clusterNameFrom({ profileFile: 'my_cluster.json' })).toThrow(
      `"my_cluster" is not a valid cluster name (it contains "_"): use lower-case letters, digits and '-', start with a letter, at most 39 characters; pass -c NAME to choose one, e.g. -c my-cluster`,
    );
  });

  it('does not lower-case an explicit name, and says what is wrong with it', () => {
    expect(() => clusterNameFrom({ explicit: 'My_Cluster' })).toThrow(
      `"My_Cluster" is not a valid cluster name (it has upper-case letters, it contains "_"): use lower-case letters, digits and '-', start with a letter, at most 39 characters, e.g. -c my-cluster`,
    );
  });

  it('refuses an empty explicit name instead of falling back to the file', () => {
    expect(() => clusterNameFrom({ explicit: '', profileFile: 'ok.json' })).toThrow('(it is empty)');
  });

  it('asks for a name when it has neither', () => {
    expect(() => clusterNameFrom({})).toThrow(InvalidClusterNameError);
    expect(() => clusterNameFrom({})).toThrow(/pass -c NAME/);
  });

  it('puts "name" in the error field', () => {
    expect(() => clusterNameFrom({ explicit: 'A' })).toThrow(expect.objectContaining({ field: 'name' }));
  });
});

describe('assertClusterName', () => {
  it.each(['a', 'analytics', 'nightly-etl', 'a1-b2', 'x'.repeat(39), 'trailing-'])('accepts %s', (name) => {
    expect(assertClusterName(name)).toBe(name);
  });

  it.each([
    ['empty', '', 'it is empty'],
    ['too long', 'x'.repeat(40), 'it is 40 characters long'],
    ['a leading digit', '1abc', 'it starts with "1"'],
    ['a leading dash', '-abc', 'it starts with "-"'],
    ['a parent path', '../etc', 'it starts with "."'],
    ['a slash', 'a/b', 'it contains "/"'],
    ['a space', 'my cluster', 'it contains spaces'],
    ['a semicolon', 'a;rm -rf', 'it contains ";" spaces'],
    ['a command substitution', 'a$(id)', 'it contains "$" "(" ")"'],
    ['a backtick', 'a`id`', 'it contains "`"'],
    ['quotes', `a'b"c`, `it contains "'" "\\""`],
    ['a newline', 'a\nb', 'it contains "\\n"'],
    ['upper case', 'Prod', 'it has upper-case letters'],
    ['an underscore', 'a_b', 'it contains "_"'],
    ['a unicode letter', 'café', 'it contains "é"'],
  ])('refuses a name with %s and says why', (_what, name, why) => {
    expect(() => assertClusterName(name)).toThrow(InvalidClusterNameError);
    expect(() => assertClusterName(name)).toThrow(why);
  });

  it('offers a valid name close to the invalid one', () => {
    expect(() => assertClusterName('../Etc/Passwd')).toThrow(/e\.g\. "etc-passwd"$/);
  });

  it('refuses a value that is not text', () => {
    expect(() => assertClusterName(42 as unknown as string)).toThrow(InvalidClusterNameError);
  });
});

describe('isValidClusterName', () => {
  it('tells valid names from others without throwing', () => {
    expect(isValidClusterName('ok')).toBe(true);
    expect(isValidClusterName('Not ok')).toBe(false);
    expect(isValidClusterName(undefined)).toBe(false);
  });
});
