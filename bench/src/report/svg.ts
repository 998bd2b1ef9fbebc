import type { BenchResults } from '../results.js';
import type { FaultKind } from '../scenarios/fault.js';
import { label, num, samplesOf, stat } from './format.js';
import { executedPerElection, sentPerElection } from './metrics.js';

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

/** One colour per peer, in the order of the results. */
const PEER_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
const CHART_HEIGHT = 480;
const PLOT = { left: 70, right: 290, top: 60, bottom: 50 };

/**
 * Elections in one process: commands per election per second against elections, both on log
 * scales; per peer a solid line for those sent (all nodes' round trips) and a dashed one for
 * those Redis executed, with the target for kettle's sent commands as a guide.
 */
export function scaleChart(results: BenchResults, sentTarget: number): string {
  const peers = [...new Set(results.electionScale.map((step) => step.peer))];
  const series = peers.map((id, i) => {
    const steps = results.electionScale.filter((step) => step.peer === id && step.cost);
    const points = (of: typeof sentPerElection) =>
      steps.flatMap((step) => {
        const value = of(step);
        return value !== undefined && value > 0 ? [{ n: step.elections, value }] : [];
      });
    return {
      id,
      color: PEER_COLORS[i % PEER_COLORS.length]!,
      sent: points(sentPerElection),
      executed: points(executedPerElection),
    };
  });
  const values = series.flatMap((s) => [...s.sent, ...s.executed].map((p) => p.value));
  // A decade of room below the lowest value when it sits on a power of ten (the target does).
  const lowest = Math.log10(Math.min(sentTarget, ...values));
  const yLow = Number.isInteger(lowest) ? lowest - 1 : Math.floor(lowest);
  const yHigh = Math.max(yLow + 1, Math.ceil(Math.log10(Math.max(sentTarget, ...values))));
  const xHigh = Math.max(
    4,
    Math.ceil(Math.log10(Math.max(1, ...results.electionScale.map((s) => s.elections)))),
  );
  const plotRight = WIDTH - PLOT.right;
  const plotBottom = CHART_HEIGHT - PLOT.bottom;
  const x = (n: number) => PLOT.left + (Math.log10(n) / xHigh) * (plotRight - PLOT.left);
  const y = (v: number) =>
    plotBottom - ((Math.log10(v) - yLow) / (yHigh - yLow)) * (plotBottom - PLOT.top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${WIDTH} ${CHART_HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(`Elections in one process, ${results.electionScale[0]?.nodes ?? 2} nodes: Redis commands per election per second`)}</text>`,
    `<text x="10" y="40" fill="#555">solid: sent (all nodes’ round trips); dashed: executed by Redis (Lua scripts’ inner calls included); both axes log scale</text>`,
  ];
  for (let power = 0; power <= xHigh; power++) {
    const n = 10 ** power;
    out.push(
      `<line x1="${x(n)}" y1="${PLOT.top}" x2="${x(n)}" y2="${plotBottom}" stroke="#e5e5e5"/>`,
      `<text x="${x(n)}" y="${plotBottom + 16}" text-anchor="middle" fill="#555">${n.toLocaleString('en-US')}</text>`,
    );
  }
  for (let power = yLow; power <= yHigh; power++) {
    const v = 10 ** power;
    out.push(
      `<line x1="${PLOT.left}" y1="${y(v)}" x2="${plotRight}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${PLOT.left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${num(v, Math.max(0, -power))}</text>`,
    );
  }
  out.push(
    `<line x1="${PLOT.left}" y1="${y(sentTarget)}" x2="${plotRight}" y2="${y(sentTarget)}" stroke="#999" stroke-dasharray="2 3"/>`,
    `<text x="${plotRight - 4}" y="${y(sentTarget) - 5}" text-anchor="end" fill="#555">${escape(`target for ${label('kettle')}: sent ≤ ${sentTarget}`)}</text>`,
  );
  for (const s of series) {
    for (const [points, dash] of [
      [s.sent, ''],
      [s.executed, ' stroke-dasharray="6 4"'],
    ] as const) {
      if (points.length === 0) continue;
      const path = points.map((p) => `${x(p.n).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
      out.push(
        `<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`,
        ...points.map(
          (p) =>
            `<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3" fill="${dash ? 'white' : s.color}" stroke="${s.color}" stroke-width="1.5"/>`,
        ),
      );
    }
  }
  series.forEach((s, i) => {
    const ly = PLOT.top + 10 + i * 22;
    const lx = plotRight + 12;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${escape(label(s.id))}</text>`,
    );
  });
  out.push(
    `<line x1="${PLOT.left}" y1="${plotBottom}" x2="${plotRight}" y2="${plotBottom}" stroke="#333"/>`,
    `<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${plotBottom}" stroke="#333"/>`,
    `<text x="${(PLOT.left + plotRight) / 2}" y="${plotBottom + 36}" text-anchor="middle" fill="#555">elections (each on every node)</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}
