/**
 * What a node process prints on stdout, as event lines (tools/event-lines.ts). Times (`t`) come
 * from epochNow() in the node. Anything on stdout that is not such a line (a Nest warning) is kept
 * in the driver's log, never parsed.
 */
export type NodeMessage =
  /** Its modules are loaded and it waits for `start` on stdin: a warm spare. */
  | { ev: 'parked'; t: number; node: string; pid: number }
  | { ev: 'ready'; t: number; node: string; pid: number }
  /**
   * A run of the job of election 0 (the measured one); `term` where the peer has one; `slot` (ms)
   * on a cron schedule: the instant the run was scheduled for.
   */
  | { ev: 'run'; t: number; node: string; term?: number; slot?: number }
  /** This node became (on: true) or stopped being the leader of election 0. */
  | { ev: 'lead'; t: number; node: string; on: boolean; term?: number }
  /** The number of elections this node leads reached 1, half, or all of them (scale scenario). */
  | { ev: 'led'; t: number; node: string; count: number }
  | ({ ev: 'stats'; node: string } & NodeStats)
  | { ev: 'error'; t: number; node: string; message: string };

export interface NodeStats {
  t: number;
  /** process.cpuUsage(), user + system, µs since the process started. */
  cpuUs: number;
  rss: number;
  heapUsed: number;
  /** Event-loop delay since the previous stats request, ms beyond the sampling period. */
  eld: { p50: number; p99: number; max: number };
  /** Runs of all elections since the process started. */
  runs: number;
  /**
   * Intervals an election of this node skipped, judged at each run from the gap to its previous
   * run (round(gap) - 1 when the gap is 1.5 intervals or more): free of the window's edges.
   */
  missed: number;
  /** Runs less than half an interval after the same election's previous run. */
  repeats: number;
  /** Elections that did not run in the last two intervals (or never): stuck, not merely late. */
  stale: number;
  /** Elections this node leads now (where the peer knows). */
  leading: number;
}

/** Election `i`'s name: 0 is the one every scenario watches, the rest exist to load the node. */
export function electionName(index: number): string {
  return index === 0 ? 'bench' : `bench-${index}`;
}
