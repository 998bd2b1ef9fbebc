import type { Clock } from '../utils/clock.js';

/**
 * The store's wall clock, as this node reads it: the store's time at its last answer, carried on
 * by this node's monotonic clock. Cron slots are read on it, so that a node whose wall clock is
 * ahead, behind, or stepped (NTP, a resumed VM) claims the slots that are due where they are
 * decided, and collapses missed ones into the one the store would run. Before the first answer
 * (or with a store that does not tell its time) it is the node's wall clock, which the store's
 * checks hold within the allowance.
 */
export class StoreClock {
  /** The store's clock minus the monotonic clock, from the last answer. */
  private base?: number;

  /** `clock` is this node's: its wall time before the first answer, its monotonic time after. */
  constructor(private readonly clock: Clock) {}

  /** The store's clock now, estimated. */
  now(): number {
    return this.base === undefined ? this.clock.wallNow() : this.clock.now() + this.base;
  }

  /** True once an answer told the store's clock: before, now() is this node's wall clock. */
  get measured(): boolean {
    return this.base !== undefined;
  }

  /** How far this node's wall clock runs ahead of the store's now (negative: behind). */
  offsetMs(): number {
    return Math.round(this.clock.wallNow() - this.now());
  }

  /**
   * The store said its clock read `storeNowMs` in answer to a request sent at `sentAt` and
   * answered at `answeredAt` (both on the monotonic clock): it read it about halfway between,
   * within half the round trip.
   */
  observe(sentAt: number, answeredAt: number, storeNowMs: number | undefined): void {
    if (storeNowMs === undefined || !Number.isFinite(storeNowMs)) return;
    this.base = storeNowMs - (sentAt + answeredAt) / 2;
  }
}
