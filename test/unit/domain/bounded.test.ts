import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../../lambdas/domain/bounded.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('mapBounded', () => {
  it('answers the results in the items’ order, running at most `limit` at a time', async () => {
    let running = 0;
    let most = 0;

    const results = await mapBounded([5, 1, 4, 2, 3, 6, 7], 3, async (n) => {
      most = Math.max(most, ++running);
      for (let i = 0; i < n; i++) await tick();
      running--;
      return n * 10;
    });

    expect(results).toEqual([50, 10, 40, 20, 30, 60, 70]);
    expect(most).toBe(3);
  });

  it('answers nothing for no items', async () => {
    expect(await mapBounded([], 4, async () => 1)).toEqual([]);
  });

  it('starts nothing new after a failure, and throws it once the started calls end', async () => {
    const started: number[] = [];
    let ended = 0;

    await expect(
      mapBounded([1, 2, 3, 4, 5], 2, async (n) => {
        started.push(n);
        await tick();
        if (n === 1) throw new Error('one failed');
        await tick();
        ended++;
        return n;
      }),
    ).rejects.toThrow('one failed');

    expect(started).toEqual([1, 2]);
    expect(ended).toBe(1);
  });
});
