import { describe, expect, it, vi } from 'vitest';
import { destroyRun } from '../../../cli/commands/destroy.ts';
import { ApiRequestError, CancelledError, ClusterFailedError, UsageError } from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import type { Cluster, CommandRecord } from '../../../schemas/types.generated.ts';
import {
  aCluster,
  aCommand,
  anEvent,
  anInvocation,
  aPlan,
  ended,
  fakeFactory,
  readyCluster,
  scriptedApi,
  scriptedCommand,
} from './fakes.ts';

const options = (overrides = {}) => ({
  name: 'analytics',
  force: true,
  wait: true,
  json: false,
  ...overrides,
});

const destroyingScript = () => {
  const api = scriptedApi({
    states: [readyCluster(), aCluster({ state: 'DESTROYING' }), aCluster({ state: 'DESTROYED' })],
    batches: [
      [anEvent(1, 'recorded the cluster'), anEvent(7, 'cluster is ready')],
      [],
      [anEvent(8, 'terminating 3 instances')],
      [anEvent(9, 'cluster destroyed', 'DESTROYED')],
    ],
  });
  return api;
};

describe('bilbo destroy', () => {
  it('refuses to run off a terminal without -f, before any request', async () => {
    const api = destroyingScript();
    const fake = fakeFactory({ api, tty: false });
    await expect(destroyRun(options({ force: false }), fake.f)).rejects.toThrow(UsageError);
    await expect(destroyRun(options({ force: false }), fake.f)).rejects.toThrow(
      'destroy needs -f (--force) when not run from a terminal',
    );
    expect(api.destroyCluster).not.toHaveBeenCalled();
  });

  it('exits 1 when refusing off a terminal', async () => {
    const fake = fakeFactory({ tty: false });
    expect(await main(['destroy', 'analytics'], fake.f)).toBe(1);
  });

  it('asks on a terminal and exits 2 when the answer is no', async () => {
    const api = destroyingScript();
    const fake = fakeFactory({ api, tty: true, confirm: false });
    expect(await main(['destroy', 'analytics'], fake.f)).toBe(2);
    expect(fake.prompts).toEqual(['Destroy cluster analytics?']);
    expect(api.destroyCluster).not.toHaveBeenCalled();
  });

  it('throws CancelledError when the answer is no', async () => {
    const fake = fakeFactory({ api: destroyingScript(), tty: true, confirm: false });
    await expect(destroyRun(options({ force: false }), fake.f)).rejects.toThrow(CancelledError);
  });

  it('destroys after a yes, showing only the new events, and exits 0 when DESTROYED', async () => {
    const api = destroyingScript();
    const fake = fakeFactory({ api, tty: true, confirm: true });
    await destroyRun(options({ force: false }), fake.f);
    expect(api.destroyCluster).toHaveBeenCalledWith('analytics');
    expect(fake.stderr.text).not.toContain('recorded the cluster');
    expect(fake.stderr.text).toContain('terminating 3 instances');
    expect(fake.stderr.text).toContain('cluster destroyed');
    expect(fake.stdout.text).toBe('destroyed cluster analytics in 0.0s\n');
  });

  it('does not ask with -f', async () => {
    const fake = fakeFactory({ api: destroyingScript(), tty: true });
    expect(await main(['destroy', 'analytics', '-f'], fake.f)).toBe(0);
    expect(fake.prompts).toEqual([]);
  });

  it('prints the DESTROYED record with --json', async () => {
    const fake = fakeFactory({ api: destroyingScript() });
    await destroyRun(options({ json: true }), fake.f);
    expect(JSON.parse(fake.stdout.text)).toMatchObject({ name: 'analytics', state: 'DESTROYED' });
  });

  it('exits 1 with the reason when the destruction fails', async () => {
    const api = scriptedApi({
      states: [
        readyCluster(),
        aCluster({ state: 'FAILED', failure: { step: 'terminate', message: 'UnauthorizedOperation' } }),
      ],
    });
    const fake = fakeFactory({ api });
    await expect(destroyRun(options(), fake.f)).rejects.toThrow(ClusterFailedError);
  });

  it('returns at once with --no-wait', async () => {
    const api = destroyingScript();
    const fake = fakeFactory({ api });
    await destroyRun(options({ wait: false }), fake.f);
    expect(fake.stdout.text).toBe('analytics\tDESTROYING\n');
    expect(api.events).not.toHaveBeenCalled();
  });

  it('says so when the cluster is already destroyed', async () => {
    const api = scriptedApi({ states: [aCluster({ state: 'DESTROYED' })] });
    const fake = fakeFactory({ api });
    await destroyRun(options(), fake.f);
    expect(fake.stderr.text).toBe('cluster analytics is already destroyed\n');
    expect(api.destroyCluster).not.toHaveBeenCalled();
  });
});

describe('bilbo destroy, with a notebook', () => {
  const withNotebook = (overrides: Partial<Cluster> = {}) => {
    const plan = aPlan();
    return readyCluster({
      plan: {
        ...plan,
        roles: [...plan.roles, { ...plan.roles[0]!, role: 'notebook' }],
      },
      ...overrides,
    });
  };
  const checkCommand = () =>
    aCommand({
      kind: 'check',
      what: 'unsaved-work',
      target: 'notebook',
      invocations: [anInvocation('notebook', 0)],
    });
  /** The check prints `stdout` and ends as `state`; then the cluster is destroyed. */
  const checking = (
    stdout: string,
    state: CommandRecord['state'] = 'SUCCEEDED',
    cluster = withNotebook(),
  ) => {
    const command = checkCommand();
    return scriptedApi({
      states: [cluster, aCluster({ state: 'DESTROYING' }), aCluster({ state: 'DESTROYED' })],
      batches: [[], [anEvent(9, 'cluster destroyed', 'DESTROYED')]],
      commands: [scriptedCommand(command, [{ output: [[stdout, '']], command: ended(command, state) }])],
    });
  };
  const FOUND = [
    'repo\tproject',
    'modified\t2\tproject',
    'untracked\t1\tproject',
    'repo\tmy repo',
    'unpushed\t3\tmy repo',
    'done',
    '',
  ].join('\n');

  it('runs the unsaved-work check, asks as usual when it finds nothing, and destroys after a yes', async () => {
    const api = checking('repo\tproject\ndone\n');
    const fake = fakeFactory({ api, tty: true, confirm: true });
    expect(await main(['destroy', 'analytics'], fake.f)).toBe(0);
    expect(api.startCommand).toHaveBeenCalledWith('analytics', { check: 'unsaved-work' });
    expect(fake.prompts).toEqual(['Destroy cluster analytics?']);
    expect(api.destroyCluster).toHaveBeenCalled();
  });

  it('lists what it found, by repository, and asks whether to destroy anyway', async () => {
    const api = checking(FOUND);
    const fake = fakeFactory({ api, tty: true, confirm: false });
    expect(await main(['destroy', 'analytics'], fake.f)).toBe(2);
    expect(fake.stderr.text).toContain(
      "destroying analytics would lose this work in its notebook's git repositories:\n" +
        '  project: 2 modified files, 1 untracked file\n' +
        '  my repo: 3 commits on no remote branch\n',
    );
    expect(fake.prompts).toEqual(['Destroy cluster analytics anyway?']);
    expect(api.destroyCluster).not.toHaveBeenCalled();
  });

  it('destroys after a yes to the "anyway" question', async () => {
    const api = checking(FOUND);
    const fake = fakeFactory({ api, tty: true, confirm: true });
    expect(await main(['destroy', 'analytics'], fake.f)).toBe(0);
    expect(api.destroyCluster).toHaveBeenCalledWith('analytics');
  });

  it('writes out control characters in repository names it lists', async () => {
    const api = checking('modified\t1\tevil\u001b[2J\ndone\n');
    const fake = fakeFactory({ api, tty: true, confirm: false });
    await main(['destroy', 'analytics'], fake.f);
    expect(fake.stderr.text).toContain('  evil\\u001b[2J: 1 modified file\n');
  });

  it('skips the check and the question with -f', async () => {
    const api = checking(FOUND);
    const fake = fakeFactory({ api, tty: false });
    expect(await main(['destroy', 'analytics', '-f'], fake.f)).toBe(0);
    expect(api.startCommand).not.toHaveBeenCalled();
    expect(fake.prompts).toEqual([]);
  });

  it('refuses without a terminal and without -f, before checking or destroying', async () => {
    const api = checking(FOUND);
    const fake = fakeFactory({ api, tty: false });
    expect(await main(['destroy', 'analytics'], fake.f)).toBe(1);
    expect(fake.stderr.text).toBe('error: destroy needs -f (--force) when not run from a terminal\n');
    expect(api.startCommand).not.toHaveBeenCalled();
    expect(api.destroyCluster).not.toHaveBeenCalled();
  });

  it('says so and asks the same way when the check cannot start', async () => {
    const api = scriptedApi({
      states: [withNotebook()],
      commands: [new ApiRequestError(409, 'CLUSTER_STATE', 'cluster analytics is RESTARTING')],
    });
    const fake = fakeFactory({ api, tty: true, confirm: false });
    expect(await main(['destroy', 'analytics'], fake.f)).toBe(2);
    expect(fake.stderr.text).toContain(
      'could not check the notebook of analytics for unsaved work: cluster analytics is RESTARTING\n',
    );
    expect(fake.prompts).toEqual(['Destroy cluster analytics anyway?']);
  });

  it('says so and asks when the check ends without its final line (lost, killed)', async () => {
    const api = checking('repo\tproject\n', 'FAILED');
    const fake = fakeFactory({ api, tty: true, confirm: true });
    expect(await main(['destroy', 'analytics'], fake.f)).toBe(0);
    expect(fake.stderr.text).toContain(
      'could not check the notebook of analytics for unsaved work: the check did not finish (FAILED)',
    );
    expect(fake.prompts).toEqual(['Destroy cluster analytics anyway?']);
    expect(api.destroyCluster).toHaveBeenCalled();
  });

  it('says so and asks when git could not read a repository', async () => {
    const api = checking('repo\tbroken\nerror\tstaged\tbroken\ndone\n');
    const fake = fakeFactory({ api, tty: true, confirm: false });
    await main(['destroy', 'analytics'], fake.f);
    expect(fake.stderr.text).toContain('unsaved work: broken: staged: git failed\n');
    expect(fake.prompts).toEqual(['Destroy cluster analytics anyway?']);
  });

  it('does not run the check on a cluster that is not READY, and says it could not', async () => {
    const api = checking(FOUND, 'SUCCEEDED', withNotebook({ state: 'PAUSED' }));
    const fake = fakeFactory({ api, tty: true, confirm: false });
    await main(['destroy', 'analytics'], fake.f);
    expect(api.startCommand).not.toHaveBeenCalled();
    expect(fake.stderr.text).toContain('unsaved work: the cluster is PAUSED\n');
    expect(fake.prompts).toEqual(['Destroy cluster analytics anyway?']);
  });

  it('cancels the check on Ctrl-C and destroys nothing (exit 2)', async () => {
    const command = checkCommand();
    const api = scriptedApi({
      states: [withNotebook()],
      commands: [scriptedCommand(command, [{ hang: true }])],
    });
    const fake = fakeFactory({ api, tty: true, confirm: true });
    const exit = main(['destroy', 'analytics'], fake.f);
    await vi.waitFor(() => expect(api.getCommandOutput).toHaveBeenCalled());
    fake.interrupt();
    expect(await exit).toBe(2);
    expect(api.cancelCommand).toHaveBeenCalled();
    expect(api.destroyCluster).not.toHaveBeenCalled();
    expect(fake.prompts).toEqual([]);
  });

  it('does not check a cluster without a notebook', async () => {
    const api = destroyingScript();
    const fake = fakeFactory({ api, tty: true, confirm: true });
    expect(await main(['destroy', 'analytics'], fake.f)).toBe(0);
    expect(api.startCommand).not.toHaveBeenCalled();
  });
});

describe('bilbo destroy --if-failed', () => {
  const history = (state: CommandRecord['state']) => [
    ended(aCommand({ id: 'cmd-00000000000000b2', kind: 'run' }), state),
    ended(aCommand(), 'SUCCEEDED'),
  ];
  const withHistory = (commands: CommandRecord[]) => {
    const api = destroyingScript();
    api.listCommands.mockResolvedValue(commands);
    return api;
  };

  it.each(['FAILED', 'TIMED_OUT'] as const)('destroys when the last command ended %s', async (state) => {
    const api = withHistory(history(state));
    const fake = fakeFactory({ api });
    expect(await main(['destroy', 'analytics', '--if-failed', '-f'], fake.f)).toBe(0);
    expect(fake.stderr.text).toContain(
      `destroying cluster analytics: its last command, cmd-00000000000000b2 (run), ended ${state}\n`,
    );
    expect(api.destroyCluster).toHaveBeenCalledWith('analytics');
  });

  it.each([
    ['SUCCEEDED', 'ended SUCCEEDED'],
    ['CANCELLED', 'ended CANCELLED'],
    ['RUNNING', 'is still RUNNING'],
  ] as const)('leaves the cluster when the last command %s, and exits 0', async (state, said) => {
    const api = withHistory(history(state));
    const fake = fakeFactory({ api });
    expect(await main(['destroy', 'analytics', '--if-failed'], fake.f)).toBe(0);
    expect(fake.stderr.text).toBe(
      `not destroying cluster analytics: its last command, cmd-00000000000000b2 (run), ${said}\n`,
    );
    expect(api.destroyCluster).not.toHaveBeenCalled();
  });

  it('leaves a cluster on which no command has run', async () => {
    const api = withHistory([]);
    const fake = fakeFactory({ api });
    expect(await main(['destroy', 'analytics', '--if-failed'], fake.f)).toBe(0);
    expect(fake.stderr.text).toBe('not destroying cluster analytics: no command has run on it\n');
    expect(api.destroyCluster).not.toHaveBeenCalled();
  });

  it('still needs -f off a terminal when it would destroy', async () => {
    const api = withHistory(history('FAILED'));
    const fake = fakeFactory({ api, tty: false });
    expect(await main(['destroy', 'analytics', '--if-failed'], fake.f)).toBe(1);
    expect(fake.stderr.text).toContain('destroy needs -f (--force) when not run from a terminal');
    expect(api.destroyCluster).not.toHaveBeenCalled();
  });

  it('asks on a terminal when it would destroy', async () => {
    const api = withHistory(history('FAILED'));
    const fake = fakeFactory({ api, tty: true, confirm: true });
    expect(await main(['destroy', 'analytics', '--if-failed'], fake.f)).toBe(0);
    expect(fake.prompts).toEqual(['Destroy cluster analytics?']);
    expect(api.destroyCluster).toHaveBeenCalled();
  });

  it('is what destroyfailed does, both ways', async () => {
    const failed = withHistory(history('FAILED'));
    expect(await main(['destroyfailed', 'analytics', '-f'], fakeFactory({ api: failed }).f)).toBe(0);
    expect(failed.destroyCluster).toHaveBeenCalledWith('analytics');

    const succeeded = withHistory(history('SUCCEEDED'));
    const fake = fakeFactory({ api: succeeded });
    expect(await main(['destroyfailed', 'analytics', '-f'], fake.f)).toBe(0);
    expect(succeeded.destroyCluster).not.toHaveBeenCalled();
    expect(fake.stderr.text).toContain('not destroying cluster analytics');
  });
});
