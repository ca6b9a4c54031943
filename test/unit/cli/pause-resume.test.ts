import { describe, expect, it } from 'vitest';
import { pauseRun } from '../../../cli/commands/pause.ts';
import { resumeRun } from '../../../cli/commands/resume.ts';
import { ClusterFailedError, ClusterStateError } from '../../../cli/errors.ts';
import { main } from '../../../cli/main.ts';
import type { Cluster } from '../../../schemas/types.generated.ts';
import { aCluster, anEvent, fakeFactory, readyCluster, scriptedApi } from './fakes.ts';

const options = (overrides = {}) => ({ name: 'analytics', wait: true, json: false, ...overrides });

const script = (moving: Cluster['state'], end: Cluster, messages: string[]) =>
  scriptedApi({
    states: [aCluster({ state: moving }), end],
    batches: [
      // The history (read until an empty answer), then what comes while following.
      [anEvent(1, 'recorded the cluster'), anEvent(7, 'cluster is ready')],
      [],
      ...messages.map((message, n) => [
        anEvent(8 + n, message, n === messages.length - 1 ? end.state : undefined),
      ]),
    ],
  });

const paused = () => readyCluster({ state: 'PAUSED', workersJoined: 0 });

describe('bilbo pause', () => {
  const pausing = (end = paused()) =>
    script('PAUSING', end, ['stopping 3 instances', 'paused in 41.0 s: 3 instances stopped']);

  it('pauses, shows the new events, and exits 0 once PAUSED, saying what it still costs', async () => {
    const api = pausing();
    const fake = fakeFactory({ api });

    expect(await main(['pause', 'analytics'], fake.f)).toBe(0);
    expect(api.pauseCluster).toHaveBeenCalledWith('analytics');
    expect(fake.stderr.text).not.toContain('recorded the cluster');
    expect(fake.stderr.text).toContain('stopping 3 instances');
    expect(fake.stdout.text).toBe(
      "paused cluster analytics in 0.0s; its volumes still cost: 3 × the image's root size\n",
    );
  });

  it('exits 1 with the step and the reason when the pause failed and the cluster is READY again', async () => {
    const back = readyCluster({
      failure: { step: 'check-stopped', message: '1 of 3 instances did not stop within 600 s' },
    });
    const fake = fakeFactory({ api: pausing(back) });

    await expect(pauseRun(options(), fake.f)).rejects.toThrow(ClusterStateError);
    await expect(pauseRun(options(), fakeFactory({ api: pausing(back) }).f)).rejects.toThrow(
      'the pause of cluster analytics failed at step "check-stopped": 1 of 3 instances did not stop within 600 s; it is READY again',
    );
    expect(await main(['pause', 'analytics'], fakeFactory({ api: pausing(back) }).f)).toBe(1);
  });

  it('exits 1 when the pause ends FAILED', async () => {
    const failed = aCluster({
      state: 'FAILED',
      failure: { step: 'check-stopped', message: 'worker i-2 is terminated; it cannot be paused' },
    });

    await expect(pauseRun(options(), fakeFactory({ api: pausing(failed) }).f)).rejects.toThrow(
      ClusterFailedError,
    );
  });

  it('returns at once with --no-wait', async () => {
    const api = pausing();
    const fake = fakeFactory({ api });

    await pauseRun(options({ wait: false }), fake.f);

    expect(fake.stdout.text).toBe('analytics\tPAUSING\n');
    expect(api.events).not.toHaveBeenCalled();
  });
});

describe('bilbo resume', () => {
  const resuming = (end = readyCluster()) =>
    script('RESUMING', end, ['starting 3 instances', '4/4 workers joined', 'resumed in 52.0 s']);

  it('resumes, shows the new events, and exits 0 once READY, with the new dashboard', async () => {
    const api = resuming(readyCluster({ dashboardUrl: 'http://203.1.0.9:8787' }));
    const fake = fakeFactory({ api });

    expect(await main(['resume', 'analytics'], fake.f)).toBe(0);
    expect(api.resumeCluster).toHaveBeenCalledWith('analytics');
    expect(fake.stderr.text).toContain('4/4 workers joined');
    expect(fake.stdout.text).toBe('resumed cluster analytics in 0.0s: dashboard http://203.1.0.9:8787\n');
  });

  it('prints the READY record with --json', async () => {
    const fake = fakeFactory({ api: resuming() });

    await resumeRun(options({ json: true }), fake.f);

    expect(JSON.parse(fake.stdout.text)).toMatchObject({ name: 'analytics', state: 'READY' });
  });

  it('exits 1 with the step and the reason when the resume failed and the cluster is PAUSED again', async () => {
    const back = readyCluster({
      state: 'PAUSED',
      failure: {
        step: 'probe-ready',
        message: 'the Dask dashboard did not answer within ready_timeout (600 s)',
      },
    });

    await expect(resumeRun(options(), fakeFactory({ api: resuming(back) }).f)).rejects.toThrow(
      'the resume of cluster analytics failed at step "probe-ready": the Dask dashboard did not answer within ready_timeout (600 s); it is PAUSED again',
    );
    expect(await main(['resume', 'analytics'], fakeFactory({ api: resuming(back) }).f)).toBe(1);
  });
});
