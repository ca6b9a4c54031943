import { describe, expect, it } from 'vitest';
import { restartRun } from '../../../cli/commands/restart.ts';
import { ClusterFailedError } from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import { aCluster, anEvent, fakeFactory, readyCluster, scriptedApi } from './fakes.ts';

const options = (overrides = {}) => ({ name: 'analytics', wait: true, json: false, ...overrides });

const restartingScript = (end = readyCluster()) =>
  scriptedApi({
    states: [aCluster({ state: 'RESTARTING' }), end],
    batches: [
      // The history (read until an empty answer), then what comes while following.
      [anEvent(1, 'recorded the cluster'), anEvent(7, 'cluster is ready')],
      [],
      [anEvent(8, 'restarting the scheduler services on i-1')],
      [anEvent(9, 'restarted in 4.0 s', end.state)],
    ],
  });

describe('bilbo restart', () => {
  it('restarts, shows only the new events, and exits 0 once READY again', async () => {
    const api = restartingScript();
    const fake = fakeFactory({ api });

    expect(await main(['restart', 'analytics'], fake.f)).toBe(0);
    expect(api.restartCluster).toHaveBeenCalledWith('analytics');
    expect(fake.stderr.text).not.toContain('recorded the cluster');
    expect(fake.stderr.text).toContain('restarting the scheduler services on i-1');
    expect(fake.stdout.text).toBe('restarted cluster analytics in 0.0s\n');
  });

  it('exits 1 with the step and the reason when the restart ends FAILED', async () => {
    const failed = aCluster({
      state: 'FAILED',
      failure: { step: 'probe-ready', message: 'only 1/2 Dask workers joined within ready_timeout (60 s)' },
    });
    const fake = fakeFactory({ api: restartingScript(failed) });

    await expect(restartRun(options(), fake.f)).rejects.toThrow(ClusterFailedError);
    expect(await main(['restart', 'analytics'], fakeFactory({ api: restartingScript(failed) }).f)).toBe(1);
  });

  it('prints the READY record with --json', async () => {
    const fake = fakeFactory({ api: restartingScript() });

    await restartRun(options({ json: true }), fake.f);

    expect(JSON.parse(fake.stdout.text)).toMatchObject({ name: 'analytics', state: 'READY' });
  });

  it('returns at once with --no-wait', async () => {
    const api = restartingScript();
    const fake = fakeFactory({ api });

    await restartRun(options({ wait: false }), fake.f);

    expect(fake.stdout.text).toBe('analytics\tRESTARTING\n');
    expect(api.events).not.toHaveBeenCalled();
  });
});
