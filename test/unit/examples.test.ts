/**
 * The example scripts stay runnable: shellcheck-clean, and the Python they
 * send to a cluster works when run the way `rcmd` and `run` run it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shellcheck } from './domain/kinds/dask/sandbox.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const scripts = readdirSync(EXAMPLES).filter((file) => file.endsWith('.sh'));

describe('the example scripts', () => {
  it('include prepare-run-destroy.sh', () => {
    expect(scripts).toContain('prepare-run-destroy.sh');
  });

  it.each(scripts)('%s passes shellcheck', (script) => {
    expect(shellcheck(readFileSync(join(EXAMPLES, script), 'utf8'))).toMatchObject({ status: 0, stdout: '' });
  });
});

describe('prepare-run-destroy.sh', () => {
  const script = readFileSync(join(EXAMPLES, 'prepare-run-destroy.sh'), 'utf8');
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bilbo-example-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const python = (args: string[], env: Record<string, string> = {}) =>
    spawnSync('python3', args, { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });

  it('prepares data that row-stats.py then summarizes with its rows parameter', () => {
    const prepare = /^prepare='([^']*)'$/m.exec(script)?.[1];
    expect(prepare).toBeDefined();
    expect(python(['-c', prepare!])).toMatchObject({ status: 0, stdout: 'wrote data.csv\n' });

    const run = python([join(EXAMPLES, 'row-stats.py')], { rows: '1000' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^rows 1000\nsum [\d.]+\nmean [\d.]+\nstdev [\d.]+\n$/);
  });

  it('fails the run, so that destroy --if-failed removes the cluster, when the data is missing', () => {
    expect(python([join(EXAMPLES, 'row-stats.py')], { rows: '1000' })).toMatchObject({ status: 3 });
  });

  it('runs the commands of the original flow, destroying only after a failed run', () => {
    expect(script).toMatch(/^set -euo pipefail$/m);
    expect(script).toMatch(/create "\$here\/local\.json"/);
    expect(script).toMatch(/rcmd "\$name" scheduler "python3 -c/);
    expect(script).toMatch(/run "\$name" "\$here\/row-stats\.py" -p rows=1000 \|\| status=\$\?/);
    expect(script).toMatch(/destroy "\$name" --if-failed --force/);
  });
});
