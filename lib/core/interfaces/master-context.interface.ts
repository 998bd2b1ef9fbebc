/** What an `@OnMaster` method receives as its first argument. */
export interface MasterContext {
  /** The election's name. */
  readonly name: string;
  /** This node's id. */
  readonly nodeId: string;
  /**
   * The fencing token of this leadership: it strictly increases across leaderships of one election.
   * Pass it to the store you write to and have it reject writes with a lower term. It starts from
   * the Redis server's clock in ms (about 1.8e12): store it in a `bigint` column, not a 32-bit
   * `integer` (or as text of equal length, padded). A JavaScript number holds it exactly.
   */
  readonly term: number;
  /**
   * The slot this run belongs to: an instant of the cron schedule, or of the interval's grid on
   * the store's clock. The same for whichever node runs it; use it (not the time the run starts)
   * for "the report of 02:00". For an @OnElected handler, or a run of the testing module's
   * `runOnce`, the time it was called.
   */
  readonly scheduledAt: Date;
  /**
   * Aborts when this node stops being master (lease lost or expired, resigned, shutdown), as soon
   * as one of kettle's timers gets to run: after a freeze or a blocked event loop, code can run
   * first. On shutdown and on `resign()` it aborts while the lease is still held (and renewed), to
   * ask the job to finish; no other node runs before it has, or before the drain's time is up.
   */
  readonly signal: AbortSignal;
  /**
   * True while this leadership is current and its deadline has not passed on this node's
   * monotonic clock, read at the call: right even after a pause that no timer has seen yet. Check
   * it just before a write that matters. (A function of its own: it may be destructured.)
   */
  readonly leaseValid: () => boolean;
  /**
   * Throws when `leaseValid()` is false (the signal's reason if it aborted, else a
   * `LeadershipEndedError` with reason `expired`); unlike `signal.throwIfAborted()`, it does not
   * throw during the drain of a shutdown or a `resign()`, where the signal has aborted while the
   * lease is still held.
   */
  readonly throwIfLost: () => void;
}
