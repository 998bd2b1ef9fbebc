/** Why this node stopped being master. */
export type StepDownReason =
  /** The lease could not be renewed before its deadline on this node's clock (Redis slow or unreachable). */
  | 'expired'
  /** Redis says another node holds the lease now. */
  | 'lost'
  /** `KettleService.resign()` was called. */
  | 'resigned'
  /** The election was left, or the application is shutting down. */
  | 'shutdown';

/** One change of this node's role in one election. */
export interface LeadershipChange {
  readonly name: string;
  readonly nodeId: string;
  readonly isMaster: boolean;
  /** The term that began (isMaster true) or ended (isMaster false). */
  readonly term: number;
  /** Set when isMaster is false. */
  readonly reason?: StepDownReason;
}
