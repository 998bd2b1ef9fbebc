/** Counters of one election on this node, since it was joined. */
export interface ElectionCounters {
  /** Leaderships won. */
  elected: number;
  /** Leaderships ended, for any reason. */
  revoked: number;
  /** Runs of the master jobs started. */
  runs: number;
  /** Runs that threw or rejected (one count per failing method). */
  failedRuns: number;
  /** Ticks skipped because the previous run was still going. */
  skippedTicks: number;
  /**
   * Firings of a @Cron, @Interval or @Timeout guarded by @OnMaster, skipped because this node was a
   * follower. Firings skipped while it is master but stopping, resigning or not yet sure of its
   * lease after a reconnect are not counted.
   */
  followerSkips: number;
  /**
   * Slots not run because they had run already: a guarded firing whose slot ran on another node
   * (a hand-over, or nodes whose clocks differ), or fired twice.
   */
  repeatedSlots: number;
  /**
   * Slots not run because they came too late: a cron slot that fell due while nobody led and is
   * not caught up, or a guarded firing past its grace or with too little lease left to start.
   */
  lateSlots: number;
  /** Store commands that failed or timed out. */
  storeErrors: number;
  /**
   * Leaderships won by taking the lease of a holder whose connection had closed (crashDetection
   * 'connection'): a crash, or a connection that dropped while its process lived.
   */
  takeovers: number;
  /**
   * User callbacks that threw: leadership listeners (`onChange`, a `leadership$` subscriber that
   * throws synchronously), run observers (`onRun`), @OnElected and @OnRevoked handlers, and the
   * logger. Runs that fail
   * count in `failedRuns`.
   */
  callbackErrors: number;
}

/**
 * Round trips of the commands that extended this node's lease (a renew, or the claim of a run,
 * which renews too), answered ones only: failures count in `storeErrors`. Milliseconds; null
 * before the first one.
 */
export interface RenewLatency {
  /** The latest one. */
  readonly lastMs: number | null;
  /** Median of the latest RENEW_LATENCY_WINDOW (100). */
  readonly p50Ms: number | null;
  /** 99th percentile (nearest rank) of the latest RENEW_LATENCY_WINDOW (100). */
  readonly p99Ms: number | null;
  /** How many were measured since the election was joined. */
  readonly count: number;
}

/** What `KettleService.stats(name)` and `metrics()` report of one election on this node. */
export interface ElectionStats extends Readonly<ElectionCounters> {
  readonly name: string;
  readonly isMaster: boolean;
  /** The term of this node's current leadership, or null when not master. */
  readonly term: number | null;
  /** Milliseconds of lease left on this node's clock; 0 when not master. */
  readonly leaseLeftMs: number;
  readonly renewLatency: RenewLatency;
}
