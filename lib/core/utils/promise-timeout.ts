import { type Clock, systemClock } from './clock.js';

/** A store command that did not answer in time: its outcome is unknown, never a success. */
export class KettleTimeoutError extends Error {
  override readonly name = 'KettleTimeoutError';
  constructor(
    action: string,
    readonly ms: number,
  ) {
    super(`${action} got no answer within ${Math.round(ms)} ms`);
  }
}

/**
 * Rejects after `ms`, unless the answer is already there to be read. The command itself is not
 * cancelled (Redis cannot), only no longer awaited.
 * `onTimeout` hears that it went unanswered (its connection may be silently dead); what it throws
 * is ignored, the command has failed anyway.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  action: string,
  onTimeout?: () => void,
  clock: Clock = systemClock,
): Promise<T> {
  // One promise and one timer per call: every lease command of every election goes through here.
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = clock.setTimeout(
      // After a blocked event loop, the timer may run before the answer that arrived meanwhile is
      // read: give the I/O of this turn its go first (setImmediate runs after it).
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          reject(new KettleTimeoutError(action, ms));
          try {
            onTimeout?.();
          } catch {
            // Nothing to add to the timeout.
          }
        }),
      Math.max(1, ms),
    );
    const settle = () => {
      settled = true;
      clock.clearTimeout(timer);
    };
    promise.then(
      (value) => {
        if (settled) return;
        settle();
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settle();
        reject(error);
      },
    );
  });
}

/** Whether `promise` settles within `ms`; the timer never outlives the answer. */
export async function settlesWithin(
  promise: Promise<unknown>,
  ms: number,
  clock: Clock = systemClock,
): Promise<boolean> {
  let timer: unknown;
  const timeout = new Promise<false>(
    (resolve) => (timer = clock.setTimeout(() => resolve(false), ms)),
  );
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clock.clearTimeout(timer);
  }
}

/** Of a shutdown's time, the share kept for the release, and as much again for closing the connections. */
const RESERVE_SHARE = 0.1;
const MAX_RESERVE_MS = 250;
/**
 * Closing the connections gets at least this, however little the shutdown left: enough for a QUIT
 * on a healthy Redis, and a server that does not answer is dropped after it anyway.
 */
const MIN_CLOSE_MS = 100;

/**
 * One deadline for a whole shutdown, `timeoutMs` from its first step. Each wait takes only what is
 * left: the acquire and the claim in flight, and the runs' drain, stop early enough to leave a
 * reserve for the release (and the @OnRevoked handlers, meanwhile), and another for closing the
 * connections, so that both are still tried however long the waits before them took.
 */
export class ShutdownDeadline {
  private readonly at: number;
  private readonly reserve: number;

  constructor(
    readonly timeoutMs: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.at = clock.now() + timeoutMs;
    this.reserve = Math.min(timeoutMs * RESERVE_SHARE, MAX_RESERVE_MS);
  }

  /** Milliseconds left for the waits: the acquire and the claim in flight, the runs. */
  get forWaits(): number {
    return this.left(2 * this.reserve);
  }

  /** Milliseconds left for the release and the @OnRevoked handlers. */
  get forRelease(): number {
    return this.left(this.reserve);
  }

  /** Milliseconds left for closing the connections, and never less than `MIN_CLOSE_MS`. */
  get forClose(): number {
    return Math.max(this.left(0), MIN_CLOSE_MS);
  }

  private left(reserve: number): number {
    return Math.max(0, this.at - reserve - this.clock.now());
  }
}
