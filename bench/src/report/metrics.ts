import type { PeerSession } from '../scenarios/failover-session.js';
import type { SteadyCost } from '../scenarios/steady-cost.js';
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

/** At most this share of an election's intervals may be skipped, or elections stuck, for a node to keep up. */
export const KEPT_UP_MISSED = 0.05;

/**
 * Whether a one-process scale step kept every election running each interval. Judged per election
 * from the gaps between its runs, not from a count over the window: elections started together
 * run at the same instants, and a short window would count one run more or fewer for all of them.
 */
export function keptUp(cost: SteadyCost): boolean {
  const node = cost.perNode[0];
  if (!node) return false;
  return node.missedShare <= KEPT_UP_MISSED && node.stale <= KEPT_UP_MISSED * cost.elections;
}

/** "0.4 % missed, 0 stuck": how a scale step kept its cadence. */
export function cadenceOf(cost: SteadyCost): string {
  const node = cost.perNode[0];
  if (!node) return '—';
  return `${(node.missedShare * 100).toFixed(1)} % missed, ${node.stale.toLocaleString('en-US')} stuck`;
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
