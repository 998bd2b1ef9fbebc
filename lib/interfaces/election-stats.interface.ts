/** Counters of one election on this node, since it was joined. */
export interface ElectionStats {
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
  /** Store commands that failed or timed out. */
  storeErrors: number;
}
