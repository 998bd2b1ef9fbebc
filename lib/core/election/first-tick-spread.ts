/** The longest a first tick is put off: a run stays close to when its election was won. */
const MAX_SPREAD_MS = 1000;
/** Delays of successive elections fall evenly over the spread, whatever their number. */
const GOLDEN_RATIO_CONJUGATE = 0.618_033_988_749_895;

/**
 * Spreads the first ticks of the elections a node wins in one turn. A node that boots, or takes
 * over a dead node's elections, wins thousands in one answer; ticking all at once would claim and
 * run them all in the same instant, every interval after (a claim keeps its grid), and stall the
 * event loop each time. The first election of a turn ticks at once, so one taken over alone is
 * not delayed; the others tick up to `min(interval, 1 s)` later, evenly spread.
 */
export class FirstTickSpread {
  private wonInTurn = 0;

  /** How long the first tick of an election just won waits. */
  delayMs(intervalMs: number): number {
    if (this.wonInTurn === 0) setImmediate(() => (this.wonInTurn = 0));
    const n = this.wonInTurn++;
    return ((n * GOLDEN_RATIO_CONJUGATE) % 1) * Math.min(intervalMs, MAX_SPREAD_MS);
  }
}
