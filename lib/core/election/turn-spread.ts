/** The longest a first step is put off: a run stays close to when its election was won. */
const MAX_SPREAD_MS = 1000;
/** Room per election of the turn: about a hundred to a 10 ms slice of the timer wheel. */
const SPREAD_PER_ELECTION_MS = 0.1;
/** Past the window, delays of successive elections still fall evenly over it. */
const GOLDEN_RATIO_CONJUGATE = 0.618_033_988_749_895;

/**
 * Spreads the first step of elections that start, or are won, in one turn. A node that boots
 * starts thousands, and one that takes over a dead node's elections wins thousands in one answer.
 * Acquiring them in one go makes one answer too big to read within its timeout; ticking them at
 * once claims and runs them all in the same instant, every interval after (a claim keeps its
 * grid), and stalls the event loop each time. The first election of a turn goes at once, so one
 * taken over alone is not delayed; the n-th goes n × 0.1 ms later, within `min(period, 1 s)`:
 * a hundred are spread over 10 ms, ten thousand over a second, about a hundred to a slice.
 */
export class TurnSpread {
  private inTurn = 0;

  /** How long the first step (an acquire, a tick) of an election waits. */
  delayMs(periodMs: number): number {
    if (this.inTurn === 0) setImmediate(() => (this.inTurn = 0));
    const n = this.inTurn++;
    const windowMs = Math.min(periodMs, MAX_SPREAD_MS);
    // In turn order while the window lasts; past it, evenly over the window again.
    const inOrder = n * SPREAD_PER_ELECTION_MS;
    return inOrder < windowMs ? inOrder : ((n * GOLDEN_RATIO_CONJUGATE) % 1) * windowMs;
  }
}
