import type { ElectionStats } from './interfaces/election-stats.interface.js';

/**
 * One figure of `kettle.metrics()`, described once for every exporter: `nestjs-kettle/otel` and
 * `nestjs-kettle/prometheus` name, describe and read them from here; so can one of your own.
 */
export interface ElectionMetric {
  /** snake_case, without prefix, unit or `_total`: `is_master`, `lease_left`, `failed_runs`. */
  readonly name: string;
  /** A gauge goes up and down; a counter only goes up, from when the node joined the election. */
  readonly kind: 'gauge' | 'counter';
  /** `ms` for durations, `1` for a count or a state. */
  readonly unit: 'ms' | '1';
  readonly description: string;
  /** Its value for one election: null when there is none (the term of a follower, a latency before the first). */
  readonly read: (stats: ElectionStats) => number | null;
}

/** Every figure of `ElectionStats`, gauges first. */
export const ELECTION_METRICS: readonly ElectionMetric[] = [
  {
    name: 'is_master',
    kind: 'gauge',
    unit: '1',
    description: '1 while this node is master of the election, else 0',
    read: (s) => (s.isMaster ? 1 : 0),
  },
  {
    name: 'term',
    kind: 'gauge',
    unit: '1',
    description: "Term (fencing token) of this node's leadership; none while follower",
    read: (s) => s.term,
  },
  {
    name: 'lease_left',
    kind: 'gauge',
    unit: 'ms',
    description: "Lease left on this node's clock; 0 while follower",
    read: (s) => s.leaseLeftMs,
  },
  {
    name: 'renew_latency_last',
    kind: 'gauge',
    unit: 'ms',
    description: 'Round trip of the latest command that extended the lease',
    read: (s) => s.renewLatency.lastMs,
  },
  {
    name: 'renew_latency_p50',
    kind: 'gauge',
    unit: 'ms',
    description: 'Median round trip of the last 100 lease extensions',
    read: (s) => s.renewLatency.p50Ms,
  },
  {
    name: 'renew_latency_p99',
    kind: 'gauge',
    unit: 'ms',
    description: '99th percentile round trip of the last 100 lease extensions',
    read: (s) => s.renewLatency.p99Ms,
  },
  ...(
    [
      ['elected', 'Leaderships won', (s) => s.elected],
      ['revoked', 'Leaderships ended, for any reason', (s) => s.revoked],
      ['runs', 'Runs of the master jobs started', (s) => s.runs],
      ['failed_runs', 'Runs of the master jobs that threw or rejected', (s) => s.failedRuns],
      ['skipped_ticks', 'Ticks skipped: the previous run was still going', (s) => s.skippedTicks],
      ['follower_skips', 'Guarded scheduled firings skipped as follower', (s) => s.followerSkips],
      ['repeated_slots', 'Guarded firings skipped: their slot ran already', (s) => s.repeatedSlots],
      ['late_slots', 'Slots skipped: too late to run', (s) => s.lateSlots],
      ['store_errors', 'Store commands that failed or timed out', (s) => s.storeErrors],
      ['takeovers', 'Leases taken from a holder whose connection closed', (s) => s.takeovers],
      [
        'callback_errors',
        'Listeners, run observers, handlers and logger calls that threw',
        (s) => s.callbackErrors,
      ],
      [
        'lease_extensions',
        'Answered commands that extended the lease',
        (s) => s.renewLatency.count,
      ],
    ] as const satisfies ReadonlyArray<readonly [string, string, (s: ElectionStats) => number]>
  ).map(([name, description, read]): ElectionMetric => ({
    name,
    kind: 'counter',
    unit: '1',
    description,
    read,
  })),
];
