/**
 * The slot of each firing of a `@Cron`, `@Interval` or `@Timeout` method (@nestjs/schedule),
 * which the schedule guard claims before the body runs: from the decorator's own expression or
 * period, so that every node names a firing's slot alike.
 */
export interface FiringSlots {
  /** The slot a firing at `nowMs` (this node's clock) belongs to, or undefined when it has none. */
  slotAt(nowMs: number): number | undefined;
  /** How long after its slot a firing may still run, for an election renewing every `renewEvery`. */
  graceMs(renewEvery: number): number;
  /** How long the store remembers a claimed slot: past any firing of the same slot. */
  keepMs(slotMs: number): number;
  /**
   * Set when firings have no common slots: a firing runs when no other was claimed this long
   * before it, on the store's clock (SlotClaimOptions.sinceLastMs).
   */
  readonly sinceLastMs?: number;
  /** What this node reads the schedule as, recorded with each claimed slot (CronSchedule.identity, for a cron). */
  readonly schedule?: string;
}
