import { exactlyOneMaster } from '../analysis/mastership.js';
import { peer } from '../peers.js';
import type { BenchResults } from '../results.js';
import type { ElectionScaleStep } from '../scenarios/scale-elections.js';
import { DASH, label, num, stat, table } from './format.js';
import {
  cadenceOf,
  executedPerElection,
  KEPT_UP_MISSED,
  keptUp,
  sentPerElection,
} from './metrics.js';

/** Marks the elections-scale section in REPORT.md, so that `--only scale` can replace it alone. */
export const SCALE_START = '<!-- elections-scale section: start -->';
export const SCALE_END = '<!-- elections-scale section: end -->';

/**
 * "yes", or what broke it: whether each election had exactly one master through the window, by
 * the nodes' own account.
 */
export function masterOf(step: ElectionScaleStep): string {
  if (!step.cost) return `fell over: ${step.error ?? 'unknown'}`;
  if (!peer(step.peer).leader) {
    const runs = step.election0;
    return runs
      ? `no leader; election 0 ran twice in ${runs.repeated} of ${runs.intervals} intervals`
      : 'no leader';
  }
  const m = step.cost.mastership;
  if (!m) return 'not measured (a node did not answer)';
  if (exactlyOneMaster(m)) return 'yes';
  const broken = [
    m.shared > 0 && `${m.shared.toLocaleString('en-US')} led by both`,
    m.unled > 0 && `${m.unled.toLocaleString('en-US')} led by none`,
    m.changes > 0 && `${m.changes.toLocaleString('en-US')} leadership changes`,
    m.repeats > 0 &&
      `${m.repeats.toLocaleString('en-US')} runs repeated (a slot run twice, or two runs within half an interval)`,
  ].filter(Boolean);
  return `**no**: ${broken.join(', ')}`;
}

/** Scale, two processes with more and more elections. */
export function electionScaleTable(results: BenchResults): string {
  const rows = results.electionScale.map((step) => {
    const cost = step.cost;
    const n = step.elections;
    if (!cost) {
      return [
        label(step.peer),
        n.toLocaleString('en-US'),
        `fell over: ${step.error ?? 'unknown'}`,
        ...Array(10).fill(DASH),
      ];
    }
    const runner = cost.runner;
    return [
      label(step.peer),
      n.toLocaleString('en-US'),
      step.allLedMs !== undefined
        ? `${num(step.bootMs)} → ${num(step.allLedMs)}`
        : num(step.bootMs),
      num(sentPerElection(step), 3),
      num(executedPerElection(step), 3),
      num(cost.redis.cpuMsPerSecond),
      runner ? num(runner.cpuPercent) : DASH,
      cost.follower ? num(cost.follower.cpuPercent) : DASH,
      runner ? `${num(runner.eld.p99)} / ${num(runner.eld.max)}` : DASH,
      cadenceOf(step),
      masterOf(step),
      `${num(step.gracefulAllMs)} / ${num(step.crashAllMs)}` +
        (step.error ? ` (${step.error})` : ''),
    ];
  });
  return table(
    [
      'peer',
      'elections',
      'first node up → leads all (ms)',
      'sent / election / s',
      'executed / election / s',
      'Redis CPU (ms/s)',
      'runner CPU (% of a core)',
      'other node CPU (% of a core)',
      'runner event-loop delay p99 / max (ms)',
      'intervals missed, elections stuck',
      'one master per election',
      'leads all after SIGTERM / SIGKILL of the master (ms)',
    ],
    rows,
  );
}

/**
 * The elections-scale part of section 5, between its markers: the table, the chart, the findings,
 * and how it was measured.
 */
export function electionScaleSection(results: BenchResults, alone: boolean): string {
  const elections = results.config.scaleElections;
  const takeOver = elections.failoverPeers.map(label).join(', ') || 'no peer';
  const lines = [SCALE_START, '', '### Elections in one process', ''];
  if (alone)
    lines.push(
      `Measured in one run on ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC (${num(results.seconds / 60, 1)}-minute run, 1-minute load average ${num(results.machine.loadBefore)} before and ${num(results.machine.loadAfter)} after); it may be a later run than the sections around it (\`--only scale\`).`,
      '',
    );
  lines.push(
    `Two node processes per step, each running all N elections (or jobs) of the level: ${elections.levels.map((n) => n.toLocaleString('en-US')).join(', ')}. ` +
      `The first boots and, where the peer elects, leads them all; the second joins; after ${elections.warmupMs / 1000} s of warm-up the window (${elections.fewWindowMs / 1000} s up to 100 elections, ${elections.windowMs / 1000} s above) is measured. ` +
      `Then, for ${takeOver}, the first node gets SIGTERM and the second is timed until it leads all N; a third joins and the second gets SIGKILL.`,
    '',
    electionScaleTable(results),
    '',
    '![Commands per election per second](scale.svg)',
    '',
    scaleFindings(results),
    '',
    electionScaleMethod(results),
    '',
    SCALE_END,
  );
  return lines.join('\n');
}

function electionScaleMethod(results: BenchResults): string {
  const window = results.config.scaleElections.fewWindowMs / 1000;
  const large = results.config.scaleElections.windowMs / 1000;
  return [
    '- **Per election.** "Sent" is both nodes\u2019 round trips (counted by their proxies), "executed" the change in `INFO commandstats` (Lua scripts\u2019 inner calls included), each divided by the elections and the window\u2019s seconds.',
    '- **Runner.** The node that ran election 0 in the window: the master of every election where the peer elects. "Other node" is the second one.',
    `- **Intervals missed.** Each node judges its own runs: a gap of 1.5 intervals or more between two runs of an election skips round(gap) − 1 intervals (between their slots, for a peer whose runs say their slot). Where the peer elects, every election runs on its master alone, so the share is all nodes\u2019 skipped intervals over all elections\u2019 intervals in the window (${window} s up to 100 elections, ${large} s above). Where nodes take turns (redlock, BullMQ), a node\u2019s gap may be the other\u2019s run, so only election 0, whose every run the driver sees, is judged. "Stuck" is the elections no node ran in the last two intervals of the window. More than ${KEPT_UP_MISSED * 100} % of either is "fell behind".`,
    '- **One master per election.** Each node says which elections it leads, at the start and at the end of the window, and how often its leadership changed in between. "yes" means: at both moments every election was led by exactly one of the two nodes, no node gained or lost one in the window, and no node ran an election twice within half an interval (for a peer whose runs say their slot, kettle\u2019s `scheduledAt`: no node ran one slot twice; a late run followed by an on-time one is two slots). It is the nodes\u2019 own account (kettle\u2019s `leadership$`, the others\u2019 `elected`/`revoked` events), not a check of the keys in Redis.',
    '- **Reproduce this section alone:** `npm run bench -- --only scale` (add `--levels 1,100,1000` for fewer levels, `--peers kettle,redis-leader` for fewer peers) measures the elections-scale steps only and replaces this section and kettle\u2019s elections-scale targets in the report, and `bench/scale.svg`.',
  ].join('\n');
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
  const steps = results.electionScale.filter((step) => step.cost?.runner);
  if (steps.length === 0) return '';
  const largest = Math.max(...steps.map((step) => step.elections));
  const top = steps.filter((step) => step.elections === largest);
  const lines = top.map((step) => {
    const cost = step.cost!;
    const node = cost.runner!;
    const kept = keptUp(step);
    return (
      `- **${label(step.peer)}** at ${largest.toLocaleString('en-US')} elections, the runner: ${num(node.cpuPercent)} % of a core, ` +
      `event-loop delay p99 ${num(node.eld.p99)} ms (max ${num(node.eld.max)} ms), ${num(cost.runsPerSecond)} of ${num(cost.expectedRunsPerSecond)} runs per second on both nodes, ${cadenceOf(step)}` +
      (kept ? '' : ' (**fell behind**)') +
      (peer(step.peer).leader && node.leading < largest
        ? `, leading ${node.leading.toLocaleString('en-US')} of them at the end`
        : '') +
      '.'
    );
  });
  const kettle = top.find((step) => step.peer === 'kettle');
  if (kettle?.cost) {
    const k = kettle.cost.runner!;
    for (const step of top) {
      if (step === kettle) continue;
      const cost = step.cost!;
      const node = cost.runner!;
      if (!keptUp(step)) continue;
      const better: string[] = [];
      if (node.cpuPercent < 0.9 * k.cpuPercent)
        better.push(`CPU ${num(node.cpuPercent)} vs ${num(k.cpuPercent)} % of a core`);
      if (node.eld.p99 < 0.9 * k.eld.p99)
        better.push(`event-loop delay p99 ${num(node.eld.p99)} vs ${num(k.eld.p99)} ms`);
      const sent = sentPerElection(step)!;
      const kettleSent = sentPerElection(kettle)!;
      if (sent < 0.9 * kettleSent)
        better.push(
          `${num(sent, 3)} vs ${num(kettleSent, 3)} commands sent per election per second`,
        );
      const executed = executedPerElection(step)!;
      const kettleExecuted = executedPerElection(kettle)!;
      if (executed < 0.9 * kettleExecuted)
        better.push(
          `${num(executed, 3)} vs ${num(kettleExecuted, 3)} commands executed per election per second`,
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
  return lines.join('\n');
}
