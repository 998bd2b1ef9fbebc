/** One line of a fault node's log (see node/main.ts), or an exit seen by the harness. */
export interface FaultEvent {
  t: number;
  node: string;
  ev: string;
  election?: string;
  term?: number;
  reason?: string;
  accepted?: boolean | null;
  /** A write's send time (its `t` is when the answer came): the server took it in between. */
  sentAt?: number;
  aborted?: boolean;
  /** A spinning run's lease check (`spun`), and the longest stretch between two of its passes. */
  valid?: boolean;
  gapMs?: number;
  code?: number | null;
  signal?: string | null;
  error?: string;
  /** A run's slot (`start`), and the real wall time it started at. */
  slot?: number;
  at?: number;
  /** The election's takeovers on that node so far (`elected`, `revoked`; crashDetection). */
  takeovers?: number;
  /** What kettle logged (`log`, with KETTLE_LOG=1), and at which level. */
  level?: string;
  message?: string;
}

interface Run {
  node: string;
  election: string;
  term: number;
  start: number;
  end: number;
  aborted: boolean;
}

export interface InvariantReport {
  runs: number;
  /** Runs of one election on different nodes that overlapped in time, not covered below. */
  doubleMasters: number;
  /** Overlaps where the older run had lost its leadership (its signal aborted): what fencing is for. */
  coveredOverlaps: number;
  /** Elections whose terms did not strictly increase from one leadership to the next. */
  termRegressions: number;
  /**
   * Fenced writes accepted with a lower term than one whose acceptance was seen before this one was
   * sent: only then did the server surely take them in that order (a node frozen between the
   * server's answer and its log line logs an earlier write late).
   */
  staleWritesAccepted: number;
  /** Fenced writes refused because a newer master had written: stale masters caught. */
  staleWritesRefused: number;
  unhandledRejections: number;
}

/** Reads the invariants of the fault suite off the merged event log. */
export function checkInvariants(events: readonly FaultEvent[]): InvariantReport {
  const sorted = [...events].sort((a, b) => a.t - b.t);
  const runs = pairRuns(sorted).sort((a, b) => a.start - b.start);
  let doubleMasters = 0;
  let coveredOverlaps = 0;
  for (const [i, a] of runs.entries()) {
    for (const b of runs.slice(i + 1)) {
      if (a.election !== b.election || a.node === b.node || b.start >= a.end) continue;
      // b started while a was still running on another node.
      if (a.aborted && a.term < b.term) coveredOverlaps++;
      else doubleMasters++;
    }
  }
  let termRegressions = 0;
  const lastTerm = new Map<string, number>();
  for (const e of sorted.filter((e) => e.ev === 'elected')) {
    const last = lastTerm.get(e.election!);
    if (last !== undefined && e.term! <= last) termRegressions++;
    lastTerm.set(e.election!, e.term!);
  }
  const writes = sorted.filter((e) => e.ev === 'write');
  const staleWritesRefused = writes.filter((e) => e.accepted === false).length;
  const accepted = writes.filter((e) => e.accepted === true);
  const staleWritesAccepted = accepted.filter((write) =>
    accepted.some(
      (newer) =>
        newer.election === write.election &&
        newer.term! > write.term! &&
        newer.t < (write.sentAt ?? write.t),
    ),
  ).length;
  return {
    runs: runs.length,
    doubleMasters,
    coveredOverlaps,
    termRegressions,
    staleWritesAccepted,
    staleWritesRefused,
    unhandledRejections: sorted.filter((e) => e.ev === 'unhandled').length,
  };
}

/** Each run from its start to its end; a run cut short by its process's death ends there. */
function pairRuns(sorted: readonly FaultEvent[]): Run[] {
  const open = new Map<string, Run>();
  const runs: Run[] = [];
  for (const e of sorted) {
    const key = `${e.node}/${e.election}`;
    if (e.ev === 'start') {
      open.set(key, {
        node: e.node,
        election: e.election!,
        term: e.term!,
        start: e.t,
        end: Infinity,
        aborted: false,
      });
    } else if (e.ev === 'end' && open.has(key)) {
      const run = open.get(key)!;
      open.delete(key);
      runs.push({ ...run, end: e.t, aborted: e.aborted ?? false });
    } else if (e.ev === 'exit') {
      for (const [k, run] of open) {
        if (run.node !== e.node) continue;
        open.delete(k);
        runs.push({ ...run, end: e.t, aborted: true });
      }
    }
  }
  return [...runs, ...open.values()];
}
