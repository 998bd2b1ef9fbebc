import { type Summary, summarize } from '../analysis/percentiles.js';
import { peer, type PeerId } from '../peers.js';
import type { PeerSession } from '../scenarios/failover-session.js';
import type { FailoverSample, FaultKind } from '../scenarios/fault.js';

/** A Markdown table; columns after the first are right-aligned (numbers) unless `text`. */
export function table(header: string[], rows: string[][], text = false): string {
  const align = header.map((_, i) => (i === 0 || text ? '---' : '---:'));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

export const DASH = '—';

/** A number with precision fit for its size: 3412, 41.5, 0.83. */
export function num(value: number | undefined, digits?: number): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  if (digits !== undefined) return value.toFixed(digits);
  const size = Math.abs(value);
  if (size >= 100) return Math.round(value).toLocaleString('en-US');
  if (size >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** `peer / kettle`, as "0.25×": below 1, the peer's figure is the lower one. */
export function ratio(value: number | undefined, kettle: number | undefined): string {
  if (value === undefined || kettle === undefined || !Number.isFinite(value)) return DASH;
  if (kettle === 0) return value === 0 ? '1×' : '∞';
  return `${(value / kettle).toFixed(2)}×`;
}

export function label(id: PeerId): string {
  return peer(id).label;
}

export function samplesOf(
  session: Pick<PeerSession, 'samples'>,
  kind: FaultKind,
): FailoverSample[] {
  return session.samples.filter((sample) => sample.kind === kind);
}

/** p50 / p95 / max of one field of the samples, undefined values (timeouts) left out. */
export function stat(
  samples: readonly FailoverSample[],
  field: 'leadMs' | 'runMs' | 'gapIntervals',
): Summary | undefined {
  return summarize(
    samples.flatMap((sample) => (sample[field] === undefined ? [] : [sample[field]!])),
  );
}

/** Samples in which no other node ran the job within the bench's patience. */
export function timeouts(samples: readonly FailoverSample[]): number {
  return samples.filter((sample) => sample.runMs === undefined).length;
}

export function triple(summary: Summary | undefined, digits?: number): string {
  if (!summary) return DASH;
  return `${num(summary.p50, digits)} / ${num(summary.p95, digits)} / ${num(summary.max, digits)}`;
}
