import { describe, expect, it } from 'vitest';
import { MemoryClusterStore } from '../../../lambdas/adapters/memory/cluster-store.ts';
import { notifyingStore } from '../../../lambdas/adapters/notifying-store.ts';
import { waitForClusterEvents } from '../../../lambdas/domain/use-cases/queries.ts';
import { fakeClock } from '../../support/fake-clock.ts';
import { aCluster } from '../cli/fakes.ts';

async function storeWithCluster() {
  const clock = fakeClock();
  const memory = new MemoryClusterStore({ clock });
  await memory.create(aCluster({ id: 'c-1', name: 'analytics' }), { step: 'create', message: 'recorded' });
  const [first] = await memory.events('c-1');
  return { clock, memory, after: first!.id };
}

describe('waitForClusterEvents', () => {
  it('answers at once when there are events after the cursor', async () => {
    const { clock, memory } = await storeWithCluster();
    const sleep = () => new Promise<void>(() => {});

    const events = await waitForClusterEvents('analytics', undefined, 20_000, {
      store: memory,
      clock,
      sleep,
    });

    expect(events.map((e) => e.message)).toEqual(['recorded']);
  });

  it('polls ever less often while nothing comes, and answers none when the wait is up', async () => {
    const { clock, memory, after } = await storeWithCluster();
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      clock.advance(ms);
    };

    const events = await waitForClusterEvents('analytics', after, 3_000, { store: memory, clock, sleep });

    expect(events).toEqual([]);
    expect(sleeps).toEqual([100, 200, 400, 800, 1000, 500]);
  });

  it('answers with the event a poll finds', async () => {
    const { clock, memory, after } = await storeWithCluster();
    const sleep = async (ms: number) => {
      clock.advance(ms);
      if (clock.now().getTime() - Date.parse('2026-01-01T00:00:00.000Z') >= 700) {
        await memory.appendEvent('c-1', { step: 'launch', message: 'launching' });
      }
    };

    const events = await waitForClusterEvents('analytics', after, 20_000, { store: memory, clock, sleep });

    expect(events.map((e) => e.message)).toEqual(['launching']);
  });

  it('wakes at the write itself on a store that signals its writes, without waiting for a poll', async () => {
    const { clock, memory, after } = await storeWithCluster();
    const store = notifyingStore(memory);
    const never = () => new Promise<void>(() => {});

    const waiting = waitForClusterEvents('analytics', after, 20_000, { store, clock, sleep: never });
    await new Promise((resolve) => setImmediate(resolve));
    await store.appendEvent('c-1', { step: 'launch', message: 'launching' });

    expect((await waiting).map((e) => e.message)).toEqual(['launching']);
  });

  it('is not woken by writes to other clusters', async () => {
    const { clock, memory, after } = await storeWithCluster();
    await memory.create(aCluster({ id: 'c-2', name: 'other' }), { step: 'create', message: 'recorded' });
    const store = notifyingStore(memory);
    let woken = false;

    const waiting = waitForClusterEvents('analytics', after, 20_000, {
      store,
      clock,
      sleep: () => new Promise<void>(() => {}),
    }).then(() => {
      woken = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    await store.appendEvent('c-2', { step: 'launch', message: 'elsewhere' });
    await new Promise((resolve) => setImmediate(resolve));

    expect(woken).toBe(false);
    await store.appendEvent('c-1', { step: 'launch', message: 'here' });
    await waiting;
    expect(woken).toBe(true);
  });
});
