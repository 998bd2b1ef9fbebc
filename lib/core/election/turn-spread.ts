/** The longest a first step is put off: a run stays close to when its election was won. */
const MAX_SPREAD_MS = 1000;
/** Delays of successive elections fall evenly over the spread, whatever their number. */
const GOLDEN_RATIO_CONJUGATE = 0.618_033_988_749_895;

/**
 * Spreads the first step of elections that start, or are won, in one turn. A node that boots
 * starts thousands, and one that takes over a dead node's elections wins thousands in one answer.
 * Acquiring them in one go makes one answer too big to read within its timeout; ticking them at
 * once claims and runs them all in the same instant, every interval after (a claim keeps its
 * grid), and stalls the event loop each time. The first election of a turn goes at once, so one
 * taken over alone is not delayed; the others go up to `min(period, 1 s)` later, evenly spread.
 */
export class TurnSpread {
  private inTurn = 0;

  /** How long the first step (an acquire, a tick) of an election waits. */
  delayMs(periodMs: number): number {
    if (this.inTurn === 0) setImmediate(() => (this.inTurn = 0));
    const n = this.inTurn++;
    return ((n * GOLDEN_RATIO_CONJUGATE) % 1) * Math.min(periodMs, MAX_SPREAD_MS);
  }
}
