import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pythonLiteral, runScript } from '../../../../lambdas/domain/commands/run-script.ts';
import { ValidationError } from '../../../../lambdas/domain/errors.ts';

const PYTHON = '/usr/bin/python3';
const HOSTILE = ['$(rm -rf ~)', "'; reboot;'", '`id`', 'a\nb', '"quoted" \\ back', 'ünïcødé 🦀', ''];
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Runs a run's script as a runner would: its files in `dir`, its environment given literally. */
function execute(dir: string, run: ReturnType<typeof runScript>, path = '/usr/bin:/bin'): void {
  for (const [name, content] of Object.entries(run.files ?? {})) writeFileSync(join(dir, name), content);
  execFileSync('/bin/bash', ['-c', run.script], {
    cwd: dir,
    env: { PATH: path, HOME: dir, BILBO_PYTHON: PYTHON, ...run.env },
    stdio: 'pipe',
  });
}

describe('runScript', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bilbo-run-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives a .py file its parameters as environment values, literally', () => {
    const parameters = Object.fromEntries(HOSTILE.map((value, i) => [`p${i}`, value]));
    const program = `import json, os\nopen('seen.json', 'w').write(json.dumps({k: os.environ[k] for k in ${JSON.stringify(Object.keys(parameters))}}))\n`;

    execute(
      dir,
      runScript({
        file: 'prepare.py',
        content: base64(program),
        parameters: { ...parameters, rows: 1000, dry: false, none: null },
      }),
    );

    const seen = JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8'));
    expect(seen).toEqual(parameters);
  });

  it('runs a notebook with its parameters injected after the parameters cell, writing NAME.out.ipynb', () => {
    const notebook = {
      cells: [
        {
          cell_type: 'code',
          metadata: { tags: ['parameters'] },
          execution_count: null,
          outputs: [],
          source: ['alpha = 0\n', 'label = "default"\n'],
        },
        {
          cell_type: 'code',
          metadata: {},
          execution_count: null,
          outputs: [],
          source: [
            "import json\nopen('seen.json', 'w').write(json.dumps({'alpha': alpha, 'label': label, 'flag': flag, 'nothing': nothing}))\n",
          ],
        },
      ],
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const parameters = { alpha: 0.5, label: "'; reboot;' $(rm -rf ~)", flag: true, nothing: null };

    execute(
      dir,
      runScript({ file: 'analysis.ipynb', content: base64(JSON.stringify(notebook)), parameters }),
    );

    expect(JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8'))).toEqual(parameters);
    const out = JSON.parse(readFileSync(join(dir, 'analysis.out.ipynb'), 'utf8'));
    expect(out.cells[1].metadata.tags).toEqual(['injected-parameters']);
  });

  it('refuses a notebook that is not one, naming run.content', () => {
    expect(() => runScript({ file: 'broken.ipynb', content: base64('{"no": "cells"}') })).toThrow(
      ValidationError,
    );
    expect(() => runScript({ file: 'broken.ipynb', content: base64('not json') })).toThrow(/^run\.content: /);
  });

  it('refuses other kinds of file, naming run.file', () => {
    expect(() => runScript({ file: 'job.sh', content: base64('echo hi') })).toThrow(
      /^run\.file: job\.sh is neither/,
    );
  });

  it('writes Python literals for JSON values', () => {
    expect([true, false, null, 1e300, 'a"b\\c\n'].map(pythonLiteral)).toEqual([
      'True',
      'False',
      'None',
      '1e+300',
      '"a\\"b\\\\c\\n"',
    ]);
  });
});
