/** Why this node stopped being master. */
export type StepDownReason =
  /** The lease could not be renewed before its deadline on this node's clock (Redis slow or unreachable). */
  | 'expired'
  /** Redis says another node holds the lease now. */
  | 'lost'
  /** `KettleService.resign()` was called. */
  | 'resigned'
  /** Handed over with `balance`: this node led more than its share while another led less. */
  | 'rebalanced'
  /** The election was left, or the application is shutting down. */
  | 'shutdown';

/**
 * One change of this node's role in one election; or, first to a `leadership$` subscriber, the
 * current role in it (a follower's without `reason`).
 */
export interface LeadershipChange {
  readonly name: string;
  readonly nodeId: string;
  readonly isMaster: boolean;
  /**
   * The term that began (isMaster true) or ended (isMaster false). In a follower's current role
   * on `leadership$`: the term this node last held, 0 when it has held none.
   */
  readonly term: number;
  /** Set on every step-down; absent from a follower's current role on `leadership$`. */
  readonly reason?: StepDownReason;
}
