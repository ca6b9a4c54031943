/**
 * The local plane's store stamps its writes and events with the plane's
 * clock, the one its use cases read: a plane whose clock a test moves
 * forward keeps `updatedAt` on the same time line as `idleSince`, which
 * the reaper's rules compare.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { localStore } from '../../cli/local/local-store.ts';
import { newCluster } from '../contract/store-fixture.ts';
import { fakeClock } from '../support/fake-clock.ts';

describe('localStore', () => {
  it('stamps records and events with the clock it is given', async () => {
    const clock = fakeClock('2026-06-01T00:00:00.000Z');
    const tableName = `bilbo-test-${randomBytes(6).toString('hex')}`;
    const { store } = await localStore(inject('dynamoEndpoint'), 'local', tableName, clock);
    const cluster = newCluster(clock);
    await store.create(cluster, { step: 'accepted', message: 'create requested' });

    clock.advance(61_000);
    await store.update(cluster.id, {
      changes: { description: 'moved on' },
      expectedVersion: cluster.version,
      event: { step: 'test', message: 'a minute later' },
    });

    expect((await store.get(cluster.id))?.updatedAt).toBe('2026-06-01T00:01:01.000Z');
    const events = await store.events(cluster.id);
    expect(events.map((event) => event.at)).toEqual(['2026-06-01T00:00:00.000Z', '2026-06-01T00:01:01.000Z']);
  });
});
