import { describe, expect, it } from 'vitest';
import { destroyRun } from '../../../cli/commands/destroy.ts';
import { CancelledError, ClusterFailedError, UsageError } from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import { aCluster, anEvent, fakeFactory, readyCluster, scriptedApi } from './fakes.ts';

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
