import type { Clock } from '../../lib/core/utils/clock.js';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** Turns of the event loop after each timer: the memory store answers in microtasks, announces a release on setImmediate, and an election's steps chain a few of each. */
const SETTLE_TURNS = 5;

/** A test that fires this many timers without reaching its time has a timer that re-arms at once. */
const MAX_FIRINGS_PER_ADVANCE = 200_000;

/**
 * A clock that moves only when the test says: the time in one controlled place, never a mock of
 * the store. `advance(ms)` fires every timer due meanwhile at its own time, in order, and lets the
 * promise chains each one starts settle before the next, so that an election's awaits complete
 * as they would in real time, in microseconds of it.
 */
export class ManualClock implements Clock {
  private monotonic = 0;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** `wallStart`: the wall time at monotonic 0 (epoch ms). */
  constructor(private wallStart = Date.UTC(2030, 0, 7, 9, 0, 0)) {}

  now(): number {
    return this.monotonic;
  }

  wallNow(): number {
    return this.wallStart + this.monotonic;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { id, at: this.monotonic + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(timer: unknown): void {
    this.pending.delete(timer as number);
  }

  /** Timers set and neither fired nor cleared. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  /** Moves time on by `ms`, firing each timer due meanwhile at its time. */
  async advance(ms: number): Promise<void> {
    const until = this.monotonic + ms;
    await settle();
    for (let fired = 0; ; fired++) {
      if (fired > MAX_FIRINGS_PER_ADVANCE)
        throw new Error('a timer keeps re-arming itself at once');
      const next = this.due(until);
      if (!next) break;
      this.pending.delete(next.id);
      this.monotonic = Math.max(this.monotonic, next.at);
      next.callback();
      await settle();
    }
    this.monotonic = until;
  }

  /** Advances `stepMs` at a time until `condition()` holds; fails after `withinMs` with `what`. */
  async advanceUntil<T>(
    condition: () => T,
    what: string,
    withinMs = 60_000,
    stepMs = 1,
  ): Promise<NonNullable<T>> {
    const until = this.monotonic + withinMs;
    for (;;) {
      const value = condition();
      if (value) return value as NonNullable<T>;
      if (this.monotonic >= until) throw new Error(`not within ${withinMs} ms: ${what}`);
      await this.advance(stepMs);
    }
  }

  /** Time passes with no timer firing: a blocked event loop, a GC pause, a frozen process. */
  jump(ms: number): void {
    this.monotonic += ms;
  }

  /** Steps the wall clock alone, as NTP does; the monotonic clock goes on. */
  stepWall(ms: number): void {
    this.wallStart += ms;
  }

  /** This clock's time and timers, with the wall clock `offsetMs` off: a node whose clock is wrong. */
  offsetBy(offsetMs: number): Clock {
    return {
      now: () => this.now(),
      wallNow: () => this.wallNow() + offsetMs,
      setTimeout: (callback, ms) => this.setTimeout(callback, ms),
      clearTimeout: (timer) => this.clearTimeout(timer),
    };
  }

  private due(until: number): Pending | undefined {
    let next: Pending | undefined;
    for (const timer of this.pending.values())
      if (timer.at <= until && (!next || timer.at < next.at)) next = timer;
    return next;
  }
}

/** Lets the promise chains started so far run to their next timer. */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < SETTLE_TURNS; turn++)
    await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise that resolves `ms` from now on `clock`. */
export function sleepOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
