import { clockDrift } from '../utils/clock-drift.js';

/**
 * Every period of an election derives from its lease, as client-go's does from LeaseDuration,
 * so that one number keeps them in a safe order: drift < renew < lease.
 */
export interface ElectionTiming {
  /** How often the master runs its jobs. */
  readonly interval: number;
  /** How long a lease lasts in Redis after each acquire or renew. */
  readonly leaseTtl: number;
  /** The master renews this often: two renewals may fail before the lease runs out. */
  readonly renewEvery: number;
  /** A follower retries this often (jittered) when it cannot tell when the lease ends. */
  readonly retryEvery: number;
  /**
   * Subtracted from the lease on the master's own clock (the Redlock figure: 1 % of the TTL plus
   * 2 ms for Redis's expiry precision), so it steps down before Redis could let another node in.
   */
  readonly drift: number;
  /**
   * The master steps down when it has had no renewal confirmed for this long since sending it: a
   * fifth of the lease before the lease can end in Redis (client-go keeps a third), and never less
   * than the drift. That gap is what lets a cut-off master give up well before anyone takes over,
   * even with a late timer.
   */
  readonly renewDeadline: number;
  /** A job never starts with less lease left than this. */
  readonly safetyMargin: number;
}

/**
 * A node's election timers fire in slices this long (TimerWheel): at most this late, and those
 * of one slice together, so that their commands go out as one. 10,000 elections with a 1 s
 * interval then send about 100 commands a second, not 10,000.
 */
export const TIMER_SLICE_MS = 10;

export function electionTiming(interval: number, leaseTtl: number): ElectionTiming {
  const renewEvery = Math.floor(leaseTtl / 3);
  const drift = clockDrift(leaseTtl);
  return {
    interval,
    leaseTtl,
    renewEvery,
    retryEvery: renewEvery,
    drift,
    renewDeadline: leaseTtl - Math.max(drift, Math.floor(leaseTtl / 5)),
    safetyMargin: renewEvery,
  };
}

/** `ms` stretched by up to `factor`, so that nodes started together spread out. */
export function jittered(ms: number, factor = 0.2): number {
  return ms * (1 + Math.random() * factor);
}

/**
 * With `balance`, how much later a node that leads its share contends for a free lease than one
 * under its share: enough for the latter's acquire to land first, on any network a lease rides.
 */
export const BALANCE_DEFER_MS = 250;
