import { peer } from '../peers.js';
import type { BenchResults } from '../results.js';
import { DASH, label, num, stat, table } from './format.js';
import { cadenceOf, KEPT_UP_MISSED, keptUp } from './metrics.js';

/** Scale, one process with more and more elections. */
export function electionScaleTable(results: BenchResults): string {
  const rows = results.electionScale.map((step) => {
    const cost = step.cost;
    const node = cost?.perNode[0];
    const n = step.elections;
    if (!cost || !node) {
      return [
        label(step.peer),
        n.toLocaleString('en-US'),
        `fell over: ${step.error ?? 'unknown'}`,
        ...Array(10).fill(DASH),
      ];
    }
    return [
      label(step.peer),
      n.toLocaleString('en-US'),
      step.allLedMs !== undefined
        ? `${num(step.bootMs)} → ${num(step.allLedMs)}`
        : num(step.bootMs),
      num(cost.sentPerNodePerSecond),
      num(cost.sentPerNodePerSecond / n, 3),
      num(cost.redis.executedPerSecond / n, 3),
      num(cost.redis.cpuMsPerSecond),
      num(node.cpuPercent),
      num(node.rssMb, 0),
      `${num(node.eld.p99)} / ${num(node.eld.max)}`,
      `${num(cost.runsPerSecond)} of ${num(cost.expectedRunsPerSecond)}; ${cadenceOf(cost)}`,
      `${num(step.gracefulAllMs)} / ${num(step.crashAllMs)}` +
        (step.error ? ` (${step.error})` : ''),
    ];
  });
  return table(
    [
      'peer',
      'elections',
      'up → leads all (ms)',
      'cmds sent / s',
      'sent / election / s',
      'executed / election / s',
      'Redis CPU (ms/s)',
      'node CPU (% of a core)',
      'node RSS (MB)',
      'event-loop delay p99 / max (ms)',
      'runs / s; intervals missed, elections stuck',
      'second process leads all after SIGTERM / SIGKILL (ms)',
    ],
    rows,
  );
}

/** Scale, more and more nodes on one election. */
export function nodeScaleTable(results: BenchResults): string {
  const rows = results.nodeScale.map((step) => {
    const cost = step.cost;
    const crash = step.samples.filter((s) => s.kind === 'crash');
    const graceful = step.samples.filter((s) => s.kind === 'graceful');
    if (!cost)
      return [
        label(step.peer),
        String(step.nodes),
        `failed: ${step.error ?? 'unknown'}`,
        ...Array(8).fill(DASH),
      ];
    const pair = (s?: { p50: number; max: number }) => (s ? `${num(s.p50)} / ${num(s.max)}` : DASH);
    const meanCpu = cost.perNode.reduce((sum, node) => sum + node.cpuPercent, 0) / cost.nodes;
    return [
      label(step.peer),
      String(step.nodes),
      num(cost.sentPerNodePerSecond),
      num(cost.sentPerNodePerSecond * cost.nodes),
      num(cost.redis.executedPerSecond),
      num(cost.redis.cpuMsPerSecond),
      num(meanCpu),
      cost.runner ? num(cost.runner.eld.p99) : DASH,
      pair(stat(crash, 'runMs')),
      pair(stat(graceful, 'leadMs')),
      step.cadence ? `${step.cadence.repeated} / ${step.cadence.missed}` : DASH,
    ];
  });
  return table(
    [
      'peer',
      'nodes',
      'cmds sent / node / s',
      'cmds sent / s, all nodes',
      'executed / s',
      'Redis CPU (ms/s)',
      'node CPU, mean (% of a core)',
      'runner event-loop delay p99 (ms)',
      'crash: first run p50 / max (ms)',
      'graceful: new leader p50 / max (ms)',
      'intervals with ≥ 2 runs / no run',
    ],
    rows,
  );
}

/**
 * Plain sentences on the largest scale measured: what each peer's one process went through, and
 * where a peer that kept up did better than kettle.
 */
export function scaleFindings(results: BenchResults): string {
  const steps = results.electionScale.filter((step) => step.cost?.perNode[0]);
  if (steps.length === 0) return '';
  const window = results.config.scaleElections.fewWindowMs / 1000;
  const large = results.config.scaleElections.windowMs / 1000;
  const largest = Math.max(...steps.map((step) => step.elections));
  const top = steps.filter((step) => step.elections === largest);
  const lines = top.map((step) => {
    const cost = step.cost!;
    const node = cost.perNode[0]!;
    const kept = keptUp(cost);
    return (
      `- **${label(step.peer)}** at ${largest.toLocaleString('en-US')} elections: ${num(node.cpuPercent)} % of a core, ` +
      `event-loop delay p99 ${num(node.eld.p99)} ms (max ${num(node.eld.max)} ms), ${num(cost.runsPerSecond)} of ${num(cost.expectedRunsPerSecond)} runs per second, ${cadenceOf(cost)}` +
      (kept ? '' : ' (**fell behind**)') +
      (peer(step.peer).leader && node.leading < largest
        ? `, leading ${node.leading.toLocaleString('en-US')} of them at the end`
        : '') +
      '.'
    );
  });
  const kettle = top.find((step) => step.peer === 'kettle');
  if (kettle?.cost) {
    const k = kettle.cost.perNode[0]!;
    for (const step of top) {
      if (step === kettle) continue;
      const cost = step.cost!;
      const node = cost.perNode[0]!;
      if (!keptUp(cost)) continue;
      const better: string[] = [];
      if (node.cpuPercent < 0.9 * k.cpuPercent)
        better.push(`CPU ${num(node.cpuPercent)} vs ${num(k.cpuPercent)} % of a core`);
      if (node.eld.p99 < 0.9 * k.eld.p99)
        better.push(`event-loop delay p99 ${num(node.eld.p99)} vs ${num(k.eld.p99)} ms`);
      if (cost.sentPerNodePerSecond < 0.9 * kettle.cost.sentPerNodePerSecond)
        better.push(
          `${num(cost.sentPerNodePerSecond)} vs ${num(kettle.cost.sentPerNodePerSecond)} commands sent per second`,
        );
      if (cost.redis.cpuMsPerSecond < 0.9 * kettle.cost.redis.cpuMsPerSecond)
        better.push(
          `Redis CPU ${num(cost.redis.cpuMsPerSecond)} vs ${num(kettle.cost.redis.cpuMsPerSecond)} ms/s`,
        );
      if (better.length > 0)
        lines.push(
          `- Better than kettle at this scale, **${label(step.peer)}**: ${better.join('; ')}.`,
        );
    }
  }
  lines.push(
    `- "runs / s" is counted over the window (${window} s up to 100 elections, ${large} s above) on the node's clock; elections started together run at the same instants, so it can be off by one run per election in the window. Whether a node kept up is judged instead from each election's gaps between runs: "missed" is the share of intervals an election skipped (a gap of 1.5 intervals or more), "stuck" the elections with no run in the last two intervals (or none at all); more than ${KEPT_UP_MISSED * 100} % of either is "fell behind".`,
  );
  return lines.join('\n');
}
