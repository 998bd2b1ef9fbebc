import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TurnSpread } from '../../lib/core/election/turn-spread.js';

describe('TurnSpread', () => {
  it('lets the first election of a turn go at once, and again the first of the next turn', async () => {
    const spread = new TurnSpread();
    expect(spread.delayMs(60_000)).toBe(0);
    expect(spread.delayMs(60_000)).toBeGreaterThan(0);
    await nextTurn();
    expect(spread.delayMs(60_000)).toBe(0);
  });

  it('spreads the others evenly over min(interval, 1 s)', () => {
    const spread = new TurnSpread();
    for (const [interval, bound] of [
      [60_000, 1000],
      [200, 200],
    ] as const) {
      const delays = Array.from({ length: 1000 }, () => spread.delayMs(interval));
      expect(Math.max(...delays)).toBeLessThan(bound);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      // Each tenth of the range gets a tenth of the elections, give or take a few.
      const tenths = Array<number>(10).fill(0);
      for (const delay of delays) tenths[Math.floor((delay / bound) * 10)]!++;
      for (const count of tenths) expect(count).toBeGreaterThan(90);
    }
  });
});
