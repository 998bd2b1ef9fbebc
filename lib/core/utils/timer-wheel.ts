import type { Clock } from './clock.js';

/** A timer of a TimerWheel: what `TimerWheel.clear` takes. */
export interface WheelTimer {
  readonly callback: () => void;
  readonly bucket: Bucket;
}

interface Bucket {
  readonly key: number;
  readonly handle: unknown;
  readonly timers: Set<WheelTimer>;
}

/** The bucket of timers set for 0 ms: they fire on the next turn, not on the next slice boundary. */
const NOW = -Infinity;

/**
 * Timers grouped by deadline: every timer due in one slice of `granularityMs` fires from one clock
 * timer, in one turn of the event loop, in the order set. Ten thousand elections then wake in
 * batches, and what they send in one turn goes out in one command (RedisStore batches per turn),
 * instead of one timer and one command each. A timer fires at most `granularityMs` late, never
 * early; one set for 0 ms or less fires on the next turn. A granularity of 0 keeps exact times.
 */
export class TimerWheel {
  private readonly buckets = new Map<number, Bucket>();
  private withTimers?: Clock;

  constructor(
    private readonly clock: Clock,
    readonly granularityMs: number,
  ) {
    if (!(granularityMs >= 0)) throw new RangeError(`granularityMs must be >= 0: ${granularityMs}`);
  }

  /** The time on the wheel's clock. */
  now(): number {
    return this.clock.now();
  }

  /** The wheel's clock, with the wheel's timers (one for all who ask): for a timeout per command. */
  asClock(): Clock {
    return (this.withTimers ??= {
      now: () => this.clock.now(),
      wallNow: () => this.clock.wallNow(),
      setTimeout: (callback, ms) => this.set(callback, ms),
      clearTimeout: (timer) => this.clear(timer as WheelTimer | undefined),
    });
  }

  /**
   * True when `timer` is pending and fires no later than one set now for `ms` would. `now`: the
   * wheel's clock, read by a caller that has it already.
   */
  firesBy(timer: WheelTimer, ms: number, now = this.clock.now()): boolean {
    const { bucket } = timer;
    if (this.buckets.get(bucket.key) !== bucket || !bucket.timers.has(timer)) return false;
    return bucket.key <= (ms <= 0 ? NOW : this.sliceEnd(now + ms));
  }

  set(callback: () => void, ms: number, now = this.clock.now()): WheelTimer {
    const key = ms <= 0 ? NOW : this.sliceEnd(now + ms);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const handle = this.clock.setTimeout(
        () => this.fire(key),
        key === NOW ? 0 : Math.max(0, key - now),
      );
      bucket = { key, handle, timers: new Set() };
      this.buckets.set(key, bucket);
    }
    const timer: WheelTimer = { callback, bucket };
    bucket.timers.add(timer);
    return timer;
  }

  /** Cancels `timer`; does nothing for one that fired, was cleared, or is undefined. */
  clear(timer: WheelTimer | undefined): void {
    if (!timer) return;
    const { bucket } = timer;
    // Also while its slice fires: a timer cleared by an earlier one of the slice does not fire.
    if (!bucket.timers.delete(timer) || bucket.timers.size > 0) return;
    if (this.buckets.get(bucket.key) !== bucket) return;
    this.buckets.delete(bucket.key);
    this.clock.clearTimeout(bucket.handle);
  }

  /** Clock timers pending: one per slice that has a timer in it. */
  get pendingSlices(): number {
    return this.buckets.size;
  }

  private sliceEnd(at: number): number {
    const g = this.granularityMs;
    return g > 0 ? Math.ceil(at / g) * g : at;
  }

  /** A timer that throws does not keep the others of its slice from firing; it is rethrown after. */
  private fire(key: number): void {
    const bucket = this.buckets.get(key);
    if (!bucket) return;
    this.buckets.delete(key);
    let thrown: { error: unknown } | undefined;
    for (const timer of bucket.timers) {
      try {
        timer.callback();
      } catch (error) {
        thrown ??= { error };
      }
    }
    if (thrown) throw thrown.error;
  }
}
