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
  /** A run of election `election`, with TRACE_ELECTIONS=1 (balance scenario): every election's. */
  | { ev: 'election-run'; t: number; node: string; election: number; term?: number; slot?: number }
  /**
   * This node became or stopped being the leader of election `election`, with TRACE_ELECTIONS=1;
   * `reason` is why it stopped, where the peer says (kettle's StepDownReason).
   */
  | {
      ev: 'election-lead';
      t: number;
      node: string;
      election: number;
      on: boolean;
      term?: number;
      reason?: string;
    }
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
  /** Which ones: bit i set when it leads election i (encodeBits). */
  leadingBits: string;
  /** Elections it ran in the last two intervals, the same way: stuck elections are in no node's set. */
  recentBits: string;
  /** Elections it started or stopped leading since the process started. */
  leadChanges: number;
}

/** Election `i`'s name: 0 is the one every scenario watches, the rest exist to load the node. */
export function electionName(index: number): string {
  return index === 0 ? 'bench' : `bench-${index}`;
}

/** A set of election indices as base64 bits (bit i of byte i >> 3): 1,250 bytes for 10,000. */
export function encodeBits(count: number, has: (index: number) => boolean): string {
  const bytes = new Uint8Array(Math.ceil(count / 8));
  for (let i = 0; i < count; i++) if (has(i)) bytes[i >> 3]! |= 1 << (i & 7);
  return Buffer.from(bytes).toString('base64');
}

export function decodeBits(bits: string): Uint8Array {
  return new Uint8Array(Buffer.from(bits, 'base64'));
}
