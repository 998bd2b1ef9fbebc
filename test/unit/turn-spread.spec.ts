import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TurnSpread } from '../../lib/core/election/turn-spread.js';

/** The delays of `count` elections started in one turn. */
function delaysOf(count: number, periodMs: number): number[] {
  const spread = new TurnSpread();
  return Array.from({ length: count }, () => spread.delayMs(periodMs));
}

describe('TurnSpread', () => {
  it('lets the first election of a turn go at once, and again the first of the next turn', async () => {
    const spread = new TurnSpread();
    expect(spread.delayMs(60_000)).toBe(0);
    expect(spread.delayMs(60_000)).toBeGreaterThan(0);
    await nextTurn();
    expect(spread.delayMs(60_000)).toBe(0);
  });

  it('spreads ten thousand over up to a second, about a hundred to each 10 ms', () => {
    const delays = delaysOf(10_000, 60_000);
    expect(Math.max(...delays)).toBeLessThan(1000);
    expect(Math.max(...delays)).toBeGreaterThan(900);
    const slices = Array<number>(100).fill(0);
    for (const delay of delays) slices[Math.floor(delay / 10)]!++;
    expect(Math.max(...slices)).toBeLessThan(200);
  });

  it('spreads a hundred over 10 ms, and never past the period', () => {
    expect(Math.max(...delaysOf(100, 60_000))).toBeLessThan(10);
    expect(Math.max(...delaysOf(10_000, 200))).toBeLessThan(200);
  });
});
