/**
 * Where the core reads the time and sets its timers. The system's by default; a test gives a
 * controlled one, so that an election's timing is driven in milliseconds of real time and without
 * flaky sleeps (client-go's leader election takes a clock for the same reason).
 */
export interface Clock {
  /** Monotonic milliseconds, as performance.now(): deadlines and durations are measured on it. */
  now(): number;
  /** Epoch milliseconds, as Date.now(): cron slots, terms and lease expiry in a memory store. */
  wallNow(): number;
  /** Calls `callback` once, `ms` from now; returns what `clearTimeout` takes. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer this clock set; does nothing for one that fired or is undefined. */
  clearTimeout(timer: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};
