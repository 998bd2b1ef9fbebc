import type { PeerSession } from '../scenarios/failover-session.js';
import { peer } from '../peers.js';
import type { ElectionScaleStep } from '../scenarios/scale-elections.js';
import { samplesOf, stat } from './format.js';

/** The figures of one peer that the headline, the ratios and the comparisons are made of. */
export interface PeerMetrics {
  crashRunP50?: number;
  crashRunP95?: number;
  crashLeadP95?: number;
  gracefulLeadP50?: number;
  gracefulRunP50?: number;
  gracefulGapP50?: number;
  missed: number;
  repeated: number;
  repeatedAcrossNodes: number;
  intervals: number;
  sent: number;
  executed: number;
  redisCpu: number;
  runnerCpu?: number;
  runnerRss?: number;
}

export function metrics(session: PeerSession): PeerMetrics {
  const crash = samplesOf(session, 'crash');
  const graceful = samplesOf(session, 'graceful');
  const { cost, cadence } = session;
  return {
    crashRunP50: stat(crash, 'runMs')?.p50,
    crashRunP95: stat(crash, 'runMs')?.p95,
    crashLeadP95: stat(crash, 'leadMs')?.p95,
    gracefulLeadP50: stat(graceful, 'leadMs')?.p50,
    gracefulRunP50: stat(graceful, 'runMs')?.p50,
    gracefulGapP50: stat(graceful, 'gapIntervals')?.p50,
    missed: cadence.missed,
    repeated: cadence.repeated,
    repeatedAcrossNodes: cadence.repeatedAcrossNodes,
    intervals: cadence.intervals,
    sent: cost.sentPerNodePerSecond,
    executed: cost.executedPerNodePerSecond,
    redisCpu: cost.redis.cpuMsPerSecond / cost.nodes,
    runnerCpu: cost.runner?.cpuPercent,
    runnerRss: cost.runner?.rssMb,
  };
}

/** At most this share of an election's intervals may be skipped, or elections stuck, for the nodes to keep up. */
export const KEPT_UP_MISSED = 0.05;

/**
 * The share of intervals skipped in a scale step's window. Where the peer elects, each election
 * runs on its master alone, and every election's gaps count; where nodes take turns, a node's gap
 * may be the other's run, so only election 0, whose every run the driver sees, is judged.
 */
export function missedShareOf(step: ElectionScaleStep): number | undefined {
  const cost = step.cost;
  if (!cost) return undefined;
  if (peer(step.peer).leader) return cost.missedShare ?? cost.perNode[0]?.missedShare;
  const runs = step.election0;
  return runs && runs.intervals > 0 ? runs.missed / runs.intervals : undefined;
}

/** Elections that no node ran in the last two intervals of the window. */
export function stuckOf(step: ElectionScaleStep): number | undefined {
  return step.cost?.stuck ?? step.cost?.perNode[0]?.stale;
}

/**
 * Whether a scale step kept every election running each interval. Judged from each election's
 * gaps between runs, not from a count over the window: elections started together run at the
 * same instants, and a short window would count one run more or fewer for all of them.
 */
export function keptUp(step: ElectionScaleStep): boolean {
  const missed = missedShareOf(step);
  const stuck = stuckOf(step);
  if (missed === undefined || stuck === undefined) return false;
  return missed <= KEPT_UP_MISSED && stuck <= KEPT_UP_MISSED * step.elections;
}

/** "0.4 % missed, 0 stuck": how a scale step kept its cadence. */
export function cadenceOf(step: ElectionScaleStep): string {
  const missed = missedShareOf(step);
  const stuck = stuckOf(step);
  if (missed === undefined || stuck === undefined) return '—';
  const which = peer(step.peer).leader ? '' : 'election 0: ';
  return `${which}${(missed * 100).toFixed(1)} % missed, ${stuck.toLocaleString('en-US')} stuck`;
}

/** Lower is better for every one of these. */
export const COMPARED: Array<{
  key: keyof PeerMetrics;
  what: string;
  unit: string;
  digits?: number;
}> = [
  { key: 'crashRunP50', what: 'crash fail-over, first run p50', unit: 'ms' },
  { key: 'crashRunP95', what: 'crash fail-over, first run p95', unit: 'ms' },
  { key: 'gracefulLeadP50', what: 'graceful hand-over, new leader p50', unit: 'ms' },
  { key: 'gracefulRunP50', what: 'graceful hand-over, first run p50', unit: 'ms' },
  { key: 'missed', what: 'intervals with no run', unit: '', digits: 0 },
  { key: 'repeated', what: 'intervals with two or more runs', unit: '', digits: 0 },
  { key: 'sent', what: 'Redis commands sent per node per second', unit: '' },
  { key: 'executed', what: 'Redis commands executed per node per second', unit: '' },
  { key: 'redisCpu', what: 'Redis CPU per node', unit: 'ms/s' },
  { key: 'runnerCpu', what: 'CPU of the node that runs the job', unit: '% of a core' },
  { key: 'runnerRss', what: 'memory (RSS) of the node that runs the job', unit: 'MB' },
];

/** All nodes' round trips per election per second in a scale step's window. */
export function sentPerElection(step: ElectionScaleStep): number | undefined {
  const cost = step.cost;
  return cost && (cost.sentPerNodePerSecond * cost.nodes) / step.elections;
}

/** Commands Redis executed (scripts' inner calls included) per election per second. */
export function executedPerElection(step: ElectionScaleStep): number | undefined {
  const cost = step.cost;
  return cost && cost.redis.executedPerSecond / step.elections;
}

/** The largest node event-loop delay p99 of a scale step's window. */
export function worstDelayP99(step: ElectionScaleStep): number | undefined {
  const nodes = step.cost?.perNode ?? [];
  return nodes.length > 0 ? Math.max(...nodes.map((node) => node.eld.p99)) : undefined;
}
