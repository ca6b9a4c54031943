import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  parseUnsavedWork,
  type UnsavedWorkReport,
  unsavedWorkScript,
} from '../../../../lambdas/domain/commands/unsaved-work.ts';
import { shellcheck } from '../kinds/dask/sandbox.ts';

/** Real git repositories: a bare one as the remote, clones of it in a notebook workdir. */
class GitSandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'bilbo-unsaved-'));
  readonly remote = join(this.root, 'remote.git');
  readonly workdir = join(this.root, 'work');
  private readonly env = {
    ...process.env,
    HOME: this.root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(this.root, 'gitconfig'),
    GIT_AUTHOR_NAME: 'Ada',
    GIT_AUTHOR_EMAIL: 'ada@example.com',
    GIT_COMMITTER_NAME: 'Ada',
    GIT_COMMITTER_EMAIL: 'ada@example.com',
  };

  constructor() {
    mkdirSync(this.workdir);
    this.git(this.root, 'init', '-q', '--bare', '-b', 'main', this.remote);
    const seed = join(this.root, 'seed');
    this.git(this.root, 'clone', '-q', this.remote, seed);
    writeFileSync(join(seed, 'README.md'), 'hello\n');
    writeFileSync(join(seed, '.gitignore'), '*.log\n');
    this.git(seed, 'add', '.');
    this.git(seed, 'commit', '-q', '-m', 'first');
    this.git(seed, 'push', '-q', 'origin', 'HEAD:main');
  }

  git(cwd: string, ...args: string[]): string {
    return execFileSync('git', args, {
      cwd,
      env: this.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Clones the remote to `relative` under the workdir and returns its path. */
  clone(relative: string): string {
    const path = join(this.workdir, relative);
    this.git(this.root, 'clone', '-q', this.remote, path);
    return path;
  }

  /** Runs the check the way a remote command does: bash, in the workdir. */
  check(): { report: UnsavedWorkReport; stdout: string; status: number | null } {
    const run = spawnSync('bash', ['-c', unsavedWorkScript()], {
      cwd: this.workdir,
      env: this.env,
      encoding: 'utf8',
    });
    return { report: parseUnsavedWork(run.stdout), stdout: run.stdout, status: run.status };
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

describe('the unsaved-work check, run on real repositories', () => {
  let sandbox: GitSandbox;
  beforeEach(() => {
    sandbox = new GitSandbox();
  });
  afterEach(() => sandbox.remove());

  it('passes shellcheck', () => {
    expect(shellcheck(unsavedWorkScript())).toMatchObject({ status: 0, stdout: '' });
  });

  it('finds nothing in a clean clone, and says it checked it and finished', () => {
    sandbox.clone('project');
    const { report, status } = sandbox.check();
    expect(status).toBe(0);
    expect(report).toEqual({ repositories: ['project'], findings: [], problems: [], complete: true });
  });

  it('finds nothing, and no repository, in an empty workdir', () => {
    expect(sandbox.check().report).toEqual({ repositories: [], findings: [], problems: [], complete: true });
  });

  it('finds a modified file', () => {
    const repo = sandbox.clone('project');
    writeFileSync(join(repo, 'README.md'), 'changed\n');
    expect(sandbox.check().report.findings).toEqual([{ repository: 'project', kind: 'modified', count: 1 }]);
  });

  it('finds a staged file', () => {
    const repo = sandbox.clone('project');
    writeFileSync(join(repo, 'new.py'), 'print(1)\n');
    sandbox.git(repo, 'add', 'new.py');
    expect(sandbox.check().report.findings).toEqual([{ repository: 'project', kind: 'staged', count: 1 }]);
  });

  it('finds untracked files, but not ignored ones', () => {
    const repo = sandbox.clone('project');
    writeFileSync(join(repo, 'a.ipynb'), '{}');
    mkdirSync(join(repo, 'data'));
    writeFileSync(join(repo, 'data', 'b.csv'), '1,2\n');
    writeFileSync(join(repo, 'run.log'), 'ignored\n');
    expect(sandbox.check().report.findings).toEqual([{ repository: 'project', kind: 'untracked', count: 2 }]);
  });

  it('finds a stash', () => {
    const repo = sandbox.clone('project');
    writeFileSync(join(repo, 'README.md'), 'work in progress\n');
    sandbox.git(repo, 'stash', '-q');
    expect(sandbox.check().report.findings).toEqual([{ repository: 'project', kind: 'stash', count: 1 }]);
  });

  it('finds a local commit not pushed', () => {
    const repo = sandbox.clone('project');
    writeFileSync(join(repo, 'README.md'), 'more\n');
    sandbox.git(repo, 'commit', '-q', '-am', 'second');
    expect(sandbox.check().report.findings).toEqual([{ repository: 'project', kind: 'unpushed', count: 1 }]);
  });

  it('finds the commits of a new branch with no upstream', () => {
    const repo = sandbox.clone('project');
    sandbox.git(repo, 'switch', '-q', '-c', 'experiment');
    for (const n of [1, 2]) {
      writeFileSync(join(repo, `x${n}.py`), `${n}\n`);
      sandbox.git(repo, 'add', '.');
      sandbox.git(repo, 'commit', '-q', '-m', `experiment ${n}`);
    }
    sandbox.git(repo, 'switch', '-q', 'main');
    expect(sandbox.check().report.findings).toEqual([{ repository: 'project', kind: 'unpushed', count: 2 }]);
  });

  it('finds a commit made on a detached HEAD', () => {
    const repo = sandbox.clone('project');
    sandbox.git(repo, 'switch', '-q', '--detach');
    sandbox.git(repo, 'commit', '-q', '--allow-empty', '-m', 'detached');
    expect(sandbox.check().report.findings).toEqual([{ repository: 'project', kind: 'unpushed', count: 1 }]);
  });

  it('does not count a pushed branch', () => {
    const repo = sandbox.clone('project');
    sandbox.git(repo, 'switch', '-q', '-c', 'shared');
    sandbox.git(repo, 'commit', '-q', '--allow-empty', '-m', 'shared work');
    sandbox.git(repo, 'push', '-q', '-u', 'origin', 'shared');
    expect(sandbox.check().report.findings).toEqual([]);
  });

  it('checks the workdir itself and repositories one and two levels below it', () => {
    sandbox.git(sandbox.workdir, 'init', '-q', '-b', 'main');
    writeFileSync(join(sandbox.workdir, 'notes.md'), 'mine\n');
    sandbox.clone('top');
    const deep = sandbox.clone('group/deep');
    writeFileSync(join(deep, 'README.md'), 'changed\n');
    const { report } = sandbox.check();
    expect(report.repositories.sort()).toEqual(['.', 'group/deep', 'top']);
    expect(report.findings).toContainEqual({ repository: 'group/deep', kind: 'modified', count: 1 });
    // The workdir's repository sees the clones as untracked folders, and notes.md.
    expect(report.findings).toContainEqual({ repository: '.', kind: 'untracked', count: 3 });
  });

  it.each([
    ['spaces', 'my project'],
    ['a tab', 'tab\there'],
    ['a newline', 'line\nbreak'],
    ['a backslash and quotes', String.raw`back\slash "q" 'q'`],
    ['non-ASCII letters', 'données-λ'],
    ['a leading dash', '-n'],
  ])('keeps a repository name with %s whole', (_case, name) => {
    const repo = sandbox.clone(name);
    writeFileSync(join(repo, 'README.md'), 'changed\n');
    const { report } = sandbox.check();
    expect(report.repositories).toEqual([name]);
    expect(report.findings).toEqual([{ repository: name, kind: 'modified', count: 1 }]);
    expect(report.complete).toBe(true);
  });

  it('reports a repository git cannot read as a problem, and still finishes', () => {
    const repo = sandbox.clone('broken');
    writeFileSync(join(repo, '.git', 'HEAD'), 'garbage\n');
    const { report } = sandbox.check();
    expect(report.problems.map((p) => p.repository)).toContain('broken');
    expect(report.complete).toBe(true);
  });
});

describe('parseUnsavedWork', () => {
  it('is incomplete without the final done line', () => {
    expect(parseUnsavedWork('repo\tproject\nmodified\t2\tproject\n')).toEqual({
      repositories: ['project'],
      findings: [{ repository: 'project', kind: 'modified', count: 2 }],
      problems: [],
      complete: false,
    });
  });

  it('is incomplete when output follows done', () => {
    expect(parseUnsavedWork('done\nrepo\tx\n').complete).toBe(false);
  });

  it('is incomplete for empty output', () => {
    expect(parseUnsavedWork('').complete).toBe(false);
  });

  it('ignores lines it does not know, and counts that are not positive numbers', () => {
    expect(parseUnsavedWork('hello\nmodified\tmany\tp\nmodified\t0\tp\nunknown\t1\tp\ndone\n')).toEqual({
      repositories: [],
      findings: [],
      problems: [],
      complete: true,
    });
  });

  it('turns nogit into a problem', () => {
    expect(parseUnsavedWork('nogit\ndone\n').problems).toEqual([
      { message: 'git is not installed on the notebook instance' },
    ]);
  });

  it('decodes escaped paths', () => {
    expect(parseUnsavedWork('stash\t1\ta\\tb\\nc\\\\d\\\\n\ndone\n').findings).toEqual([
      { repository: 'a\tb\nc\\d\\n', kind: 'stash', count: 1 },
    ]);
  });
});
