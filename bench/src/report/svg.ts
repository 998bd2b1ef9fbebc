import type { BenchResults } from '../results.js';
import type { FaultKind } from '../scenarios/fault.js';
import { label, samplesOf, stat } from './format.js';

const WIDTH = 920;
const LEFT = 250;
const RIGHT = 30;
const ROW = 30;
const PANEL_TOP = 64;
const AXIS = 34;
const RUN_COLOR = '#1f77b4';
const LEAD_COLOR = '#d62728';

/**
 * Every fail-over of scenarios 1 and 2 as a dot: filled, the time until another node's first run;
 * hollow, the time until another node said it leads. Bars mark the first-run p50 (thick) and p95.
 */
export function failoverChart(results: BenchResults): string {
  const { leaseTtl } = results.config;
  const parts: string[] = [];
  let y = 0;
  for (const kind of ['crash', 'graceful'] as const) {
    const guide = kind === 'crash' ? leaseTtl + Math.floor(leaseTtl / 3) : undefined;
    const panel = drawPanel(results, kind, y, guide);
    parts.push(panel.svg);
    y += panel.height;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 10}" viewBox="0 0 ${WIDTH} ${y + 10}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function drawPanel(
  results: BenchResults,
  kind: FaultKind,
  top: number,
  guide: number | undefined,
): { svg: string; height: number } {
  const sessions = results.sessions;
  const values = sessions.flatMap((s) =>
    samplesOf(s, kind).flatMap((sample) => [sample.runMs ?? 0, sample.leadMs ?? 0]),
  );
  // Some room to the right, so that the largest dot or the guide does not sit on the edge.
  const max = niceCeiling(1.05 * Math.max(1, ...values, guide ?? 0));
  const plot = WIDTH - LEFT - RIGHT;
  const x = (ms: number) => LEFT + (Math.min(ms, max) / max) * plot;
  const bottom = top + PANEL_TOP + sessions.length * ROW;
  const title =
    kind === 'crash'
      ? 'Crash (SIGKILL of the node running the job): ms until another node ...'
      : 'Graceful stop (SIGTERM, Nest shutdown hooks): ms until another node ...';
  const out: string[] = [
    `<text x="10" y="${top + 18}" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<circle cx="${LEFT}" cy="${top + 32}" r="4" fill="${RUN_COLOR}"/><text x="${LEFT + 8}" y="${top + 36}">runs the job</text>`,
    `<circle cx="${LEFT + 110}" cy="${top + 32}" r="4" fill="none" stroke="${LEAD_COLOR}" stroke-width="1.5"/><text x="${LEFT + 118}" y="${top + 36}">leads (peers that elect)</text>`,
    `<text x="${LEFT + 290}" y="${top + 36}">bars: first run p50 (thick), p95 (thin)</text>`,
  ];
  for (const tick of ticks(max)) {
    out.push(
      `<line x1="${x(tick)}" y1="${top + PANEL_TOP - 4}" x2="${x(tick)}" y2="${bottom}" stroke="#e5e5e5"/>`,
      `<text x="${x(tick)}" y="${bottom + 16}" text-anchor="middle" fill="#555">${tick}</text>`,
    );
  }
  if (guide !== undefined) {
    out.push(
      `<line x1="${x(guide)}" y1="${top + PANEL_TOP - 4}" x2="${x(guide)}" y2="${bottom}" stroke="#999" stroke-dasharray="4 3"/>`,
      `<text x="${x(guide) - 4}" y="${top + PANEL_TOP - 10}" text-anchor="end" fill="#555">target: leaseTtl + retry = ${guide} ms</text>`,
    );
  }
  sessions.forEach((session, row) => {
    const cy = top + PANEL_TOP + row * ROW + ROW / 2;
    out.push(
      `<text x="${LEFT - 10}" y="${cy + 4}" text-anchor="end">${escape(label(session.peer))}</text>`,
    );
    const samples = samplesOf(session, kind);
    // Bars first, so that the dots stay visible on top of them.
    const run = stat(samples, 'runMs');
    if (run) {
      out.push(
        `<line x1="${x(run.p50)}" y1="${cy - 10}" x2="${x(run.p50)}" y2="${cy + 10}" stroke="black" stroke-width="3"/>`,
        `<line x1="${x(run.p95)}" y1="${cy - 8}" x2="${x(run.p95)}" y2="${cy + 8}" stroke="black" stroke-width="1"/>`,
      );
    }
    samples.forEach((sample, i) => {
      const dy = ((i % 5) - 2) * 2;
      if (sample.leadMs !== undefined)
        out.push(
          `<circle cx="${x(sample.leadMs).toFixed(1)}" cy="${cy + dy}" r="4" fill="none" stroke="${LEAD_COLOR}" stroke-width="1.2" opacity="0.8"/>`,
        );
      if (sample.runMs !== undefined)
        out.push(
          `<circle cx="${x(sample.runMs).toFixed(1)}" cy="${cy + dy}" r="3.5" fill="${RUN_COLOR}" opacity="0.65"/>`,
        );
    });
  });
  out.push(
    `<line x1="${LEFT}" y1="${bottom}" x2="${WIDTH - RIGHT}" y2="${bottom}" stroke="#333"/>`,
    `<text x="${WIDTH - RIGHT}" y="${bottom + 30}" text-anchor="end" fill="#555">ms after the signal</text>`,
  );
  return { svg: out.join('\n'), height: bottom - top + AXIS + 12 };
}

/** 1, 2 or 5 times a power of ten, at or above `value`, in steps the axis can show. */
function niceCeiling(value: number): number {
  const step = niceStep(value / 5);
  return Math.ceil(value / step) * step;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function ticks(max: number): number[] {
  const step = niceStep(max / 5);
  const out: number[] = [];
  for (let tick = 0; tick <= max + 1e-9; tick += step) out.push(Math.round(tick));
  return out;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
