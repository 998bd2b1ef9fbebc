/** What an `@OnMaster` method receives as its first argument. */
export interface MasterContext {
  /** The election's name. */
  readonly name: string;
  /** This node's id. */
  readonly nodeId: string;
  /**
   * The fencing token of this leadership: it strictly increases across leaderships of one election.
   * Pass it to the store you write to and have it reject writes with a lower term.
   */
  readonly term: number;
  /** Aborts the moment this node stops being master (lease lost or expired, resigned, shutdown). */
  readonly signal: AbortSignal;
}
