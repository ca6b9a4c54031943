import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runRun } from '../../../cli/commands/run.ts';
import { UsageError } from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import { MAX_RUN_FILE_BYTES, parseRunParameters } from '../../../cli/run-file.ts';
import { aCommand, ended, fakeFactory, scriptedApi, scriptedCommand } from './fakes.ts';

const SCRIPT = 'import os\nprint(int(os.environ["rows"]) * 2)\n';

describe('bilbo run', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bilbo-run-'));
    await writeFile(join(dir, 'prepare.py'), SCRIPT);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const runCommand = () => aCommand({ kind: 'run', what: 'prepare.py rows=1000', target: 'scheduler' });
  const succeeding = (stdout = '') => {
    const command = runCommand();
    return scriptedApi({
      commands: [
        scriptedCommand(command, [{ output: [[stdout, '']], command: ended(command, 'SUCCEEDED') }]),
      ],
    });
  };

  it('sends the file base64-encoded with its name and typed parameters, then follows it', async () => {
    const api = succeeding('2000\n');
    const fake = fakeFactory({ api });
    const args = [
      '-p',
      'rows=1000',
      '-p',
      'ratio=0.5',
      '-p',
      'dry=true',
      '-p',
      'seed=null',
      '-p',
      'label=a b',
    ];
    expect(await main(['run', 'analytics', join(dir, 'prepare.py'), ...args], fake.f)).toBe(0);
    expect(api.startCommand).toHaveBeenCalledWith('analytics', {
      run: {
        file: 'prepare.py',
        content: Buffer.from(SCRIPT).toString('base64'),
        parameters: { rows: 1000, ratio: 0.5, dry: true, seed: null, label: 'a b' },
      },
      restartAfter: false,
    });
    expect(fake.stdout.text).toBe('2000\n');
  });

  it('asks for the restart with -r, and sends no parameters when there are none', async () => {
    const api = succeeding();
    await main(['run', 'analytics', join(dir, 'prepare.py'), '-r', '-t', '600'], fakeFactory({ api }).f);
    expect(api.startCommand).toHaveBeenCalledWith('analytics', {
      run: { file: 'prepare.py', content: Buffer.from(SCRIPT).toString('base64') },
      restartAfter: true,
      timeoutSeconds: 600,
    });
  });

  it('takes a notebook', async () => {
    await writeFile(join(dir, 'train.ipynb'), '{"cells": []}');
    const api = succeeding();
    await main(['run', 'analytics', join(dir, 'train.ipynb')], fakeFactory({ api }).f);
    expect(api.startCommand.mock.calls[0]![1].run?.file).toBe('train.ipynb');
  });

  it('exits with the exit code of the run', async () => {
    const command = runCommand();
    const api = scriptedApi({
      commands: [
        scriptedCommand(command, [{ command: ended(command, 'FAILED', [{ exitCode: 3 }], { exitCode: 3 }) }]),
      ],
    });
    expect(await main(['run', 'analytics', join(dir, 'prepare.py')], fakeFactory({ api }).f)).toBe(3);
  });

  it('cancels the run on Ctrl-C and exits 130', async () => {
    const api = scriptedApi({ commands: [scriptedCommand(runCommand(), [{ hang: true }])] });
    const fake = fakeFactory({ api });
    const exit = main(['run', 'analytics', join(dir, 'prepare.py')], fake.f);
    await vi.waitFor(() => expect(api.getCommandOutput).toHaveBeenCalled());
    fake.interrupt();
    expect(await exit).toBe(130);
    expect(api.cancelCommand).toHaveBeenCalled();
  });

  it.each([
    [
      'another type of file',
      'data.csv',
      /takes a notebook \(\.ipynb\) or a Python file \(\.py\), not "data\.csv"/,
    ],
    ['a file without a type', 'Makefile', /not "Makefile"/],
    ['a name the API does not take', 'my script.py', /rename the file/],
  ])('refuses %s before any request', async (_case, file, message) => {
    await writeFile(join(dir, file), 'x');
    const api = succeeding();
    const fake = fakeFactory({ api });
    expect(await main(['run', 'analytics', join(dir, file)], fake.f)).toBe(1);
    expect(fake.stderr.text).toMatch(message);
    expect(api.startCommand).not.toHaveBeenCalled();
  });

  it('refuses a file larger than the request can carry, before any request', async () => {
    await writeFile(join(dir, 'big.py'), Buffer.alloc(MAX_RUN_FILE_BYTES + 1, 0x23));
    const api = succeeding();
    const fake = fakeFactory({ api });
    await expect(
      runRun(
        {
          name: 'analytics',
          file: join(dir, 'big.py'),
          params: [],
          restart: false,
          follow: true,
          json: false,
        },
        fake.f,
      ),
    ).rejects.toThrow(UsageError);
    expect(api.startCommand).not.toHaveBeenCalled();
  });

  it('sends a file of exactly the largest size, whose base64 fits the schema', async () => {
    await writeFile(join(dir, 'edge.py'), Buffer.alloc(MAX_RUN_FILE_BYTES, 0x23));
    const api = succeeding();
    expect(await main(['run', 'analytics', join(dir, 'edge.py')], fakeFactory({ api }).f)).toBe(0);
    expect(api.startCommand.mock.calls[0]![1].run?.content.length).toBeLessThanOrEqual(349_528);
  });

  it('says which file it cannot read', async () => {
    const fake = fakeFactory();
    expect(await main(['run', 'analytics', join(dir, 'missing.py')], fake.f)).toBe(1);
    expect(fake.stderr.text).toContain('missing.py: no such file');
  });

  it('refuses a folder', async () => {
    await mkdir(join(dir, 'folder.py'));
    const fake = fakeFactory();
    expect(await main(['run', 'analytics', join(dir, 'folder.py')], fake.f)).toBe(1);
    expect(fake.stderr.text).toContain('is not a file');
  });

  it('refuses -p without name=value in the flag parser', async () => {
    const fake = fakeFactory();
    expect(await main(['run', 'analytics', join(dir, 'prepare.py'), '-p', 'rows'], fake.f)).toBe(1);
    expect(fake.stderr.text).toContain('expected name=value, e.g. -p rows=1000');
  });
});

describe('parseRunParameters', () => {
  it('types values the way profile overrides are typed', () => {
    expect(
      parseRunParameters([
        'n=1000',
        'neg=-2.5e3',
        'yes=true',
        'no=false',
        'none=null',
        'text=hello world',
        'quoted="42"',
        'empty=',
        'eq=a=b',
      ]),
    ).toEqual({
      n: 1000,
      neg: -2500,
      yes: true,
      no: false,
      none: null,
      text: 'hello world',
      quoted: '42',
      empty: '',
      eq: 'a=b',
    });
  });

  it('lets a later value of a name win', () => {
    expect(parseRunParameters(['rows=1', 'rows=2'])).toEqual({ rows: 2 });
  });

  it.each([
    ['a dotted name', 'a.b=1', /a parameter name is/],
    ['a name with a dash', 'my-rows=1', /a parameter name is/],
    ['a name starting with a digit', '1st=1', /a parameter name is/],
    ['a JSON list', 'xs=[1,2]', /not a JSON list/],
    ['a JSON object', 'o={"a":1}', /not a JSON object/],
    ['a prototype key', '__proto__=1', /write it as name=value/],
  ])('refuses %s', (_case, param, message) => {
    expect(() => parseRunParameters([param])).toThrow(UsageError);
    expect(() => parseRunParameters([param])).toThrow(message);
  });

  it('refuses more than 64 parameters and text longer than 4096 characters', () => {
    expect(() => parseRunParameters(Array.from({ length: 65 }, (_, i) => `p${i}=1`))).toThrow('at most 64');
    expect(() => parseRunParameters([`long=${'x'.repeat(4097)}`])).toThrow('longer than 4096');
  });
});
