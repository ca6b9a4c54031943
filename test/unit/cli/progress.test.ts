import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { followCluster } from '../../../cli/follow.ts';
import { createProgress, stamp } from '../../../cli/progress.ts';
import { aCluster, anEvent, fakeFactory, readyCluster, scriptedApi } from './fakes.ts';

describe('createProgress', () => {
  it('writes one stamped line per step when stderr is not a terminal', () => {
    const fake = fakeFactory({ tty: false });
    const progress = createProgress({ io: fake.f.io, now: fake.f.now });
    progress.update('launching scheduler');
    fake.tick(3200);
    progress.update('launching 2 workers');
    progress.succeed();
    expect(fake.stderr.text).toBe('[  0.0s] launching scheduler\n[  3.2s] launching 2 workers\n');
  });

  it('keeps finished steps and marks the last one failed on a terminal', () => {
    const fake = fakeFactory({ tty: true });
    fake.stderr.isTTY = true;
    const progress = createProgress({ io: fake.f.io, now: fake.f.now });
    progress.update('launching scheduler');
    progress.update('waiting for workers');
    progress.fail();
    const text = stripVTControlCharacters(fake.stderr.text);
    expect(text).toMatch(/✔ \[ {2}0\.0s\] launching scheduler\n/);
    expect(text).toMatch(/✖ \[ {2}0\.0s\] waiting for workers\n/);
  });

  it('stamps elapsed seconds with one decimal, padded', () => {
    expect(stamp(3200)).toBe('[  3.2s]');
    expect(stamp(125_000)).toBe('[125.0s]');
  });
});

describe('followCluster', () => {
  it('returns the record once it reaches the wanted state, after showing the last events', async () => {
    const api = scriptedApi({
      states: [aCluster(), readyCluster()],
      batches: [[anEvent(1, 'recorded')], [], [anEvent(2, 'ready', 'READY')]],
    });
    const fake = fakeFactory({ api });
    const shown: string[] = [];
    const cluster = await followCluster(fake.f, api, 'analytics', {
      until: 'READY',
      onEvent: (e) => shown.push(e.message),
      interruptedMessage: 'stopped',
    });
    expect(cluster.state).toBe('READY');
    expect(shown).toEqual(['recorded', 'ready']);
  });

  it('long-polls the events, reading the record again only when an event says the state changed', async () => {
    const api = scriptedApi({
      states: [aCluster(), readyCluster()],
      batches: [[anEvent(1, 'launching')], [anEvent(2, 'launched')], [anEvent(3, 'ready', 'READY')]],
    });
    await followCluster(fakeFactory({ api }).f, api, 'analytics', {
      until: 'READY',
      onEvent: () => {},
      interruptedMessage: 'stopped',
    });

    expect(api.events.mock.calls.map(([, options]) => options)).toEqual([
      { waitSeconds: 20 },
      { after: 'e0001', waitSeconds: 20 },
      { after: 'e0002', waitSeconds: 20 },
      { after: 'e0003', waitSeconds: 0 },
    ]);
    expect(api.getCluster).toHaveBeenCalledTimes(2);
  });

  it('waits between two empty answers that came back early, so an API ignoring the wait is not hammered', async () => {
    const api = scriptedApi({
      states: [aCluster(), readyCluster()],
      batches: [[], [], [anEvent(1, 'ready', 'READY')]],
    });
    const fake = fakeFactory({ api });
    await followCluster(fake.f, api, 'analytics', {
      until: 'READY',
      onEvent: () => {},
      interruptedMessage: 'stopped',
    });

    expect(fake.sleeps).toEqual([1000, 1000]);
  });

  it('also ends on FAILED', async () => {
    const api = scriptedApi({ states: [aCluster({ state: 'FAILED' })] });
    const cluster = await followCluster(fakeFactory({ api }).f, api, 'analytics', {
      until: 'READY',
      onEvent: () => {},
      interruptedMessage: 'stopped',
    });
    expect(cluster.state).toBe('FAILED');
  });

  it('stops listening for Ctrl-C when it returns', async () => {
    const api = scriptedApi({ states: [readyCluster()] });
    const fake = fakeFactory({ api });
    let registered = 0;
    let disposed = 0;
    fake.f.onInterrupt = () => {
      registered++;
      return () => {
        disposed++;
      };
    };
    await followCluster(fake.f, api, 'analytics', {
      until: 'READY',
      onEvent: () => {},
      interruptedMessage: 'x',
    });
    expect([registered, disposed]).toEqual([1, 1]);
  });
});
