import type { RunRecord } from '../cluster/cluster.js';

/** How well the runs of election 0, across all nodes, kept one run per interval. */
export interface Cadence {
  /** Intervals covered: from the first run to the last, in intervals. */
  intervals: number;
  runs: number;
  /** Intervals in which no node ran the job. */
  missed: number;
  /** Intervals in which the job ran two or more times. */
  repeated: number;
  /** Of those, intervals whose runs were on two or more different nodes. */
  repeatedAcrossNodes: number;
  /** Runs beyond the first in an interval. */
  extraRuns: number;
  /** Runs whose term was lower than one already seen (fencing tokens going back); undefined without terms. */
  termsBack?: number;
}

/**
 * An interval opens with a run that comes at least `OPEN_AFTER` intervals after the previous one
 * opened; later runs before the next opening belong to it (repeats). Between two openings `g`
 * intervals apart, round(g) - 1 intervals had no run. The grid follows the runs rather than a
 * fixed clock, so a cadence that shifts after a fail-over is not mistaken for missed or doubled
 * intervals, and timer jitter of a few ms never is.
 */
const OPEN_AFTER = 0.75;

export function cadence(runs: readonly RunRecord[], interval: number): Cadence {
  const sorted = [...runs].sort((a, b) => a.t - b.t);
  const result: Cadence = {
    intervals: 0,
    runs: sorted.length,
    missed: 0,
    repeated: 0,
    repeatedAcrossNodes: 0,
    extraRuns: 0,
  };
  if (sorted.length === 0) return result;
  if (sorted.some((run) => run.term !== undefined)) {
    let highest = -Infinity;
    result.termsBack = 0;
    for (const run of sorted) {
      if (run.term === undefined) continue;
      if (run.term < highest) result.termsBack++;
      highest = Math.max(highest, run.term);
    }
  }
  result.intervals = Math.round((sorted[sorted.length - 1]!.t - sorted[0]!.t) / interval) + 1;
  let opened = sorted[0]!;
  let members: RunRecord[] = [opened];
  const close = () => {
    if (members.length < 2) return;
    result.repeated++;
    result.extraRuns += members.length - 1;
    if (new Set(members.map((run) => run.node)).size > 1) result.repeatedAcrossNodes++;
  };
  for (const run of sorted.slice(1)) {
    const gap = (run.t - opened.t) / interval;
    if (gap < OPEN_AFTER) {
      members.push(run);
      continue;
    }
    close();
    if (gap >= 1.5) result.missed += Math.round(gap) - 1;
    opened = run;
    members = [run];
  }
  close();
  return result;
}
