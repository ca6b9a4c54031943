/**
 * Destroy's unsaved-work check against a real local notebook: git
 * repositories made in its workdir through `bilbo rcmd`, each holding one
 * kind of unsaved work, are listed and the destroy waits for an answer;
 * once only work that is safe on the remote is left, it asks plainly; off a
 * terminal without -f it refuses; with -f it destroys.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyRun } from '../../cli/commands/destroy.ts';
import { CancelledError } from '../../cli/errors.ts';
import { startTestControlPlane, type TestControlPlane } from '../support/local-control-plane.ts';
import { fakeFactory } from '../unit/cli/fakes.ts';

let harness: TestControlPlane;
const NAME = 'notes';

/** A remote outside the workdir, and one repository per kind of unsaved work, plus one with none. */
const SETUP = `set -eu
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
git init -q --bare --initial-branch=main ../remote.git
git init -q --initial-branch=main ../first && echo one > ../first/a.txt
git -C ../first add a.txt && git -C ../first commit -qm one && git -C ../first push -q ../remote.git main
seed() { git clone -q ../remote.git "$1"; }
seed clean
seed modified && echo two >> modified/a.txt
seed staged && echo new > staged/b.txt && git -C staged add b.txt
seed untracked && echo scratch > untracked/notes.md
seed stashed && echo wip >> stashed/a.txt && git -C stashed stash -q
seed unpushed && echo three >> unpushed/a.txt && git -C unpushed commit -qam three
seed no-upstream && git -C no-upstream checkout -qb experiment && echo four >> no-upstream/a.txt && git -C no-upstream commit -qam four
echo made`;

beforeAll(async () => {
  harness = await startTestControlPlane();
  mkdirSync(join(harness.home, 'profiles'));
  writeFileSync(join(harness.home, 'profiles', `${NAME}.json`), JSON.stringify({ notebook: {} }));
  const created = await harness.bilbo('create', NAME);
  expect(created.code, created.stderr).toBe(0);
  const setup = await harness.bilbo('rcmd', NAME, 'notebook', SETUP);
  expect(setup.code, setup.stderr).toBe(0);
  expect(setup.stdout).toContain('made');
});

afterAll(async () => {
  await harness?.stop();
});

/** `bilbo destroy NAME` in this process, at a terminal whose user answers `answer`. */
async function destroyAtTerminal(answer: boolean) {
  const fake = fakeFactory({ api: harness.api, tty: true, confirm: answer });
  const outcome = await destroyRun(
    { name: NAME, force: false, wait: true, json: false, ifFailed: false },
    fake.f,
  ).then(
    () => 'destroyed',
    (error: unknown) => error,
  );
  return { outcome, fake };
}

describe('destroy, with a notebook holding git repositories', () => {
  it('lists every kind of unsaved work, asks, and destroys nothing when told no', async () => {
    const { outcome, fake } = await destroyAtTerminal(false);

    expect(outcome).toBeInstanceOf(CancelledError);
    const said = fake.stderr.text;
    expect(said).toContain(`destroying ${NAME} would lose this work in its notebook's git repositories:`);
    expect(said).toMatch(/modified: 1 modified file\n/);
    expect(said).toMatch(/staged: 1 staged file\n/);
    expect(said).toMatch(/untracked: 1 untracked file\n/);
    expect(said).toMatch(/stashed: 1 stash\n/);
    expect(said).toMatch(/unpushed: 1 commit on no remote branch\n/);
    expect(said).toMatch(/no-upstream: 1 commit on no remote branch\n/);
    expect(said).not.toMatch(/\bclean:/);
    expect(fake.prompts).toEqual([`Destroy cluster ${NAME} anyway?`]);
    expect((await harness.api.getCluster(NAME)).state).toBe('READY');
  });

  it('refuses off a terminal without -f, before looking', async () => {
    const refused = await harness.bilbo('destroy', NAME);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('destroy needs -f (--force) when not run from a terminal');
    expect((await harness.api.getCluster(NAME)).state).toBe('READY');
  });

  it('asks plainly once only pushed work is left, and destroys when told yes', async () => {
    const cleaned = await harness.bilbo(
      'rcmd',
      NAME,
      'notebook',
      'rm -rf modified staged untracked stashed unpushed no-upstream && ls',
    );
    expect(cleaned.stdout.trim()).toBe('clean');

    const { outcome, fake } = await destroyAtTerminal(true);

    expect(outcome).toBe('destroyed');
    expect(fake.stderr.text).not.toContain('would lose');
    expect(fake.prompts).toEqual([`Destroy cluster ${NAME}?`]);
    expect((await harness.api.getCluster(NAME)).state).toBe('DESTROYED');
    expect(await harness.liveProcesses()).toEqual([]);
  });
});
