import { summarize } from '../analysis/percentiles.js';
import type { PeerId } from '../peers.js';
import type { BenchResults } from '../results.js';
import type { FailoverSample, FaultKind } from '../scenarios/fault.js';
import { DASH, label, num, samplesOf, stat, table, timeouts, triple } from './format.js';

/** Scenarios 1 and 2: one row per peer. */
export function failoverTable(results: BenchResults, kind: FaultKind): string {
  return faultTable(results.sessions, kind);
}

/** How the faults of `kind` were handed over, one row per session (the crash section's too). */
export function faultTable(
  sessions: ReadonlyArray<{ peer: PeerId; samples: FailoverSample[] }>,
  kind: FaultKind,
): string {
  const rows = sessions.map((session) => {
    const samples = samplesOf(session, kind);
    const gaps = summarize(
      samples.flatMap((s) => (s.gapIntervals === undefined ? [] : [s.gapIntervals])),
    );
    const leader = stat(samples, 'leadMs');
    return [
      label(session.peer),
      String(samples.length),
      String(timeouts(samples)),
      leader ? triple(leader) : 'no leader',
      triple(stat(samples, 'runMs')),
      gaps
        ? `${num(sortedMin(samples.map((s) => s.gapIntervals)))} / ${num(gaps.p50)} / ${num(gaps.max)}`
        : DASH,
    ];
  });
  return table(
    [
      'peer',
      'faults',
      'no run in time',
      'new leader p50 / p95 / max (ms)',
      'first run p50 / p95 / max (ms)',
      'gap min / p50 / max (intervals)',
    ],
    rows,
  );
}

function sortedMin(values: Array<number | undefined>): number | undefined {
  const finite = values.filter((value): value is number => value !== undefined);
  return finite.length > 0 ? Math.min(...finite) : undefined;
}

/** Scenario 3. */
export function exactlyOnceTable(results: BenchResults): string {
  const rows = results.sessions.map((session) => {
    const c = session.cadence;
    const crashes = samplesOf(session, 'crash').length;
    const gracefuls = samplesOf(session, 'graceful').length;
    return [
      label(session.peer),
      String(c.intervals),
      String(c.runs),
      `${crashes} + ${gracefuls}`,
      String(c.missed),
      String(c.repeated),
      String(c.repeatedAcrossNodes),
      String(c.extraRuns),
      c.termsBack === undefined ? 'no terms' : String(c.termsBack),
    ];
  });
  return table(
    [
      'peer',
      'intervals',
      'runs',
      'crashes + graceful stops',
      'intervals with no run',
      'intervals with ≥ 2 runs',
      '… on ≥ 2 nodes',
      'extra runs',
      'runs with a lower term than an earlier run',
    ],
    rows,
  );
}

/** Scenario 4: what a steady cluster costs Redis, and what one node costs its host. */
export function costTable(results: BenchResults): string {
  const rows = results.sessions.map(({ peer, cost }) => [
    label(peer),
    num(cost.sentPerNodePerSecond),
    num(cost.executedPerNodePerSecond),
    num(cost.redis.cpuMsPerSecond / cost.nodes),
    num(cost.perNode.reduce((sum, node) => sum + node.bytesPerSecond, 0) / cost.nodes),
    cost.runner ? num(cost.runner.sentPerSecond) : DASH,
    cost.follower ? num(cost.follower.sentPerSecond) : DASH,
    cost.runner ? num(cost.runner.cpuPercent) : DASH,
    cost.runner ? num(cost.runner.rssMb, 0) : DASH,
    cost.runner ? num(cost.runner.eld.p99) : DASH,
  ]);
  return table(
    [
      'peer',
      'cmds sent / node / s',
      'cmds executed / node / s',
      'Redis CPU / node (ms/s)',
      'bytes / node / s',
      'runner: sent / s',
      'busiest other node: sent / s',
      'runner CPU (% of a core)',
      'runner RSS (MB)',
      'runner event-loop delay p99 (ms)',
    ],
    rows,
  );
}

/** Which commands Redis executed for each peer, per node per second. */
export function commandMix(results: BenchResults): string {
  const rows = results.sessions.map(({ peer, cost }) => [
    label(peer),
    cost.redis.byCommand
      .slice(0, 8)
      .map(({ command, perSecond }) => `${command} ${num(perSecond / cost.nodes)}`)
      .join(', ') || DASH,
  ]);
  return table(['peer', 'commands executed per node per second (busiest first)'], rows, true);
}
