import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { profilesRun } from '../../../cli/commands/profiles.ts';
import { ProfileFileError } from '../../../cli/errors.ts';
import { listProfiles, loadProfile, resolveProfile } from '../../../cli/profiles.ts';
import { ValidationError } from '../../../lambdas/domain/errors.ts';
import { fakeFactory } from './fakes.ts';

const GOOD = { description: 'two small workers', dask: { worker: { count: 2, nproc: 1, nthread: 1 } } };
const BAD = { dask: { worker: { count: 'four' } } };

describe('profiles', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'bilbo-profiles-'));
    await mkdir(join(home, 'profiles'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const write = (file: string, content: unknown) =>
    writeFile(
      join(home, 'profiles', file),
      typeof content === 'string' ? content : JSON.stringify(content, null, 2),
    );

  describe('resolveProfile', () => {
    it('takes a bare name from $BILBO_HOME/profiles', () => {
      expect(resolveProfile('analytics', home)).toEqual({
        name: 'analytics',
        path: join(home, 'profiles', 'analytics.json'),
      });
    });

    it('takes an argument with a "/" or a .json ending as a path', () => {
      expect(resolveProfile('./team/gpu.json', home, '/work')).toEqual({
        name: 'gpu',
        path: '/work/team/gpu.json',
      });
      expect(resolveProfile('gpu.json', home, '/work')).toEqual({ name: 'gpu', path: '/work/gpu.json' });
      expect(resolveProfile('conf/gpu', home, '/work')).toEqual({ name: 'gpu', path: '/work/conf/gpu' });
    });
  });

  describe('loadProfile', () => {
    it('reads and validates a profile by name', async () => {
      await write('analytics.json', GOOD);
      expect(await loadProfile('analytics', home)).toEqual({
        name: 'analytics',
        path: join(home, 'profiles', 'analytics.json'),
        profile: GOOD,
      });
    });

    it('reads a profile by path', async () => {
      await write('elsewhere.json', GOOD);
      const loaded = await loadProfile(join(home, 'profiles', 'elsewhere.json'), '/nonexistent');
      expect(loaded.name).toBe('elsewhere');
    });

    it('names the profiles folder when no profile has that name', async () => {
      const loading = loadProfile('missing', home);
      await expect(loading).rejects.toThrow(ProfileFileError);
      await expect(loading).rejects.toThrow(/no profile named "missing".*bilbo profiles/);
    });

    it('names the file, line and column of a JSON syntax error', async () => {
      await write('broken.json', '{\n  "dask": {\n    "worker": { "count": 2, }\n  }\n}\n');
      const loading = loadProfile('broken', home);
      await expect(loading).rejects.toThrow(ProfileFileError);
      await expect(loading).rejects.toThrow(`${join(home, 'profiles', 'broken.json')}, line 3 column 29`);
    });

    it('rejects a profile that breaks the schema, naming the file', async () => {
      await write('bad.json', BAD);
      const loading = loadProfile('bad', home);
      await expect(loading).rejects.toThrow(ValidationError);
      await expect(loading).rejects.toThrow(/bad\.json: .*count/);
    });
  });

  describe('listProfiles', () => {
    it('lists every profile with whether it is valid, and the first problem when not', async () => {
      await write('good.json', GOOD);
      await write('bad.json', BAD);
      await write('broken.json', '{ "description": ');
      await write('notes.txt', 'not a profile');
      const listed = await listProfiles(home);
      expect(listed.map((p) => [p.name, p.valid])).toEqual([
        ['bad', false],
        ['broken', false],
        ['good', true],
      ]);
      expect(listed[0]!.problem).toMatch(/count/);
      expect(listed[1]!.problem).toMatch(/JSON|Unexpected/);
      expect(listed[2]!.description).toBe('two small workers');
    });

    it('is empty when the folder does not exist', async () => {
      expect(await listProfiles(join(home, 'nothing-here'))).toEqual([]);
    });
  });

  describe('the profiles command', () => {
    it('prints NAME, VALID and DESCRIPTION/PROBLEM columns', async () => {
      await write('good.json', GOOD);
      await write('bad.json', BAD);
      const fake = fakeFactory({ home });
      await profilesRun({ json: false }, fake.f);
      const lines = fake.stdout.text.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+VALID\s+DESCRIPTION\/PROBLEM$/);
      expect(lines[1]).toMatch(/^bad\s+no\s+.*count/);
      expect(lines[2]).toMatch(/^good\s+yes\s+two small workers$/);
    });

    it('prints the listing as JSON with --json', async () => {
      await write('bad.json', BAD);
      const fake = fakeFactory({ home });
      await profilesRun({ json: true }, fake.f);
      expect(JSON.parse(fake.stdout.text)).toMatchObject({ profiles: [{ name: 'bad', valid: false }] });
    });
  });
});
