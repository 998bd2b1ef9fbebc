import type { RenewLatency } from '../interfaces/election-stats.interface.js';

/** Renew latency percentiles cover this many of the latest lease extensions: bounded memory. */
export const RENEW_LATENCY_WINDOW = 100;

/**
 * The latest `size` round trips in a ring, so that percentiles cost bounded memory however long
 * the node runs, and follow what Redis does now rather than an average since boot.
 */
export class LatencyWindow {
  /** Typed: a fractional ms in a plain array is a heap object, one per sample at every claim. */
  private readonly samples: Float64Array;
  private next = 0;
  private last: number | null = null;
  private count = 0;

  constructor(private readonly size: number) {
    this.samples = new Float64Array(size);
  }

  record(ms: number): void {
    this.last = ms;
    this.count++;
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  snapshot(): RenewLatency {
    const sorted = [...this.samples.subarray(0, Math.min(this.count, this.size))].sort(
      (a, b) => a - b,
    );
    return {
      lastMs: this.last,
      p50Ms: nearestRank(sorted, 0.5),
      p99Ms: nearestRank(sorted, 0.99),
      count: this.count,
    };
  }
}

/** The smallest sample with at least `p` of the samples at or below it. */
function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.ceil(p * sorted.length) - 1];
}
