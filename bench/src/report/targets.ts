import type { BenchResults } from '../results.js';
import { DASH, label, num, table } from './format.js';
import { exactlyOneMaster } from '../analysis/mastership.js';
import {
  cadenceOf,
  executedPerElection,
  keptUp,
  metrics,
  missedShareOf,
  sentPerElection,
  stuckOf,
  worstDelayP99,
} from './metrics.js';
import { masterOf } from './scale.js';

interface Target {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** kettle's targets from the issue, each with the figure that decides it. */
export function targets(results: BenchResults): string {
  const session = results.sessions.find((s) => s.peer === 'kettle');
  if (!session) return '_kettle was not measured._';
  const { leaseTtl } = results.config;
  const retry = Math.floor(leaseTtl / 3);
  const k = metrics(session);
  const rows: Target[] = [];

  rows.push({
    target: `crash fail-over p95 (first run) ≤ leaseTtl + one retry period = ${leaseTtl + retry} ms`,
    measured: `${num(k.crashRunP95)} ms`,
    met: k.crashRunP95 === undefined ? undefined : k.crashRunP95 <= leaseTtl + retry,
  });

  const nodeSteps = results.nodeScale.filter((step) => step.peer === 'kettle' && step.cadence);
  const repeated = k.repeated + nodeSteps.reduce((sum, step) => sum + step.cadence!.repeated, 0);
  const intervals = k.intervals + nodeSteps.reduce((sum, step) => sum + step.cadence!.intervals, 0);
  rows.push({
    target: 'never two runs in one interval (scenarios 1-3 and the node-scale fail-overs)',
    measured: `${repeated} of ${intervals} intervals`,
    met: repeated === 0,
  });

  rows.push({
    target: 'graceful hand-over p50 (new leader) < 50 ms',
    measured: `${num(k.gracefulLeadP50)} ms`,
    met: k.gracefulLeadP50 === undefined ? undefined : k.gracefulLeadP50 < 50,
  });

  const others = results.sessions.filter((s) => s !== session).map((s) => ({ s, m: metrics(s) }));
  for (const [key, what] of [
    ['sent', 'sent (round trips)'],
    ['executed', 'executed (Lua scripts\u2019 inner calls included)'],
  ] as const) {
    const cheapest = others.sort((a, b) => a.m[key] - b.m[key])[0];
    rows.push({
      target: `steady state: Redis commands ${what} per node per second ≤ the cheapest peer's`,
      measured: cheapest
        ? `${num(k[key])} vs ${num(cheapest.m[key])} (${label(cheapest.s.peer)})`
        : DASH,
      met: cheapest ? k[key] <= cheapest.m[key] : undefined,
    });
  }

  return targetTable(rows);
}

function targetTable(rows: readonly Target[]): string {
  return table(
    ['target', 'measured', 'met'],
    rows.map((row) => [
      row.target,
      row.measured,
      row.met === undefined ? 'not measured' : row.met ? 'yes' : '**no**',
    ]),
  );
}

/** Marks kettle's elections-scale targets in REPORT.md, so that `--only scale` can replace them. */
export const SCALE_TARGETS_START = '<!-- elections-scale targets: start -->';
export const SCALE_TARGETS_END = '<!-- elections-scale targets: end -->';

/** kettle's target for commands sent per election per second, also drawn on bench/scale.svg. */
export const SENT_PER_ELECTION = 0.1;
const DELAY_P99_MS = 20;

/**
 * kettle's targets for elections in one process, at the largest level of the run, on the 2 nodes
 * of section 5 and against the peers measured in the same run.
 */
export function scaleTargets(results: BenchResults): string {
  const { levels } = results.config.scaleElections;
  const level = Math.max(...levels);
  const count = (n: number) => n.toLocaleString('en-US');
  const at = results.electionScale.filter((step) => step.elections === level);
  const kettle = at.find((step) => step.peer === 'kettle');
  const lines = [
    SCALE_TARGETS_START,
    '',
    `Elections in one process (section 5), at ${count(level)} elections, 2 nodes, interval ${results.config.interval} ms, lease ${results.config.leaseTtl} ms; the peers from the same run:`,
    '',
  ];
  if (!kettle?.cost) {
    const why = kettle?.error ? `: ${kettle.error}` : '';
    lines.push(
      `_kettle was not measured at ${count(level)} elections${why}._`,
      '',
      SCALE_TARGETS_END,
    );
    return lines.join('\n');
  }
  const cost = kettle.cost;
  const rows: Target[] = [];
  const sent = sentPerElection(kettle)!;
  rows.push({
    target: `commands sent (all nodes' round trips) per election per second ≤ ${SENT_PER_ELECTION}`,
    measured: num(sent, 3),
    met: sent <= SENT_PER_ELECTION,
  });
  // Fewer commands from nodes that fell behind are no saving.
  const measured = at.filter((step) => step !== kettle && step.cost);
  const cheapest = measured
    .filter(keptUp)
    .sort((a, b) => executedPerElection(a)! - executedPerElection(b)!)[0];
  const executed = executedPerElection(kettle)!;
  rows.push({
    target:
      'commands executed (Lua scripts\u2019 inner calls included) per election per second ≤ the cheapest peer\u2019s that kept up',
    measured: cheapest
      ? `${num(executed, 3)} vs ${num(executedPerElection(cheapest), 3)} (${label(cheapest.peer)})`
      : `${num(executed, 3)}; ${measured.length > 0 ? 'no peer kept up' : 'no peer measured at this level'}`,
    met: cheapest ? executed <= executedPerElection(cheapest)! : undefined,
  });
  const leader = at.find((step) => step.peer === 'redis-leader')?.cost?.runner;
  rows.push({
    target: `CPU of the node leading the elections ≤ ${label('redis-leader')}\u2019s`,
    measured: `${num(cost.runner?.cpuPercent)} vs ${num(leader?.cpuPercent)} % of a core`,
    met: cost.runner && leader ? cost.runner.cpuPercent <= leader.cpuPercent : undefined,
  });
  const delay = worstDelayP99(kettle);
  rows.push({
    target: `event-loop delay p99 ≤ ${DELAY_P99_MS} ms on each node`,
    measured: cost.perNode.map((node) => `${num(node.eld.p99)} ms`).join(', '),
    met: delay === undefined ? undefined : delay <= DELAY_P99_MS,
  });
  const missed = missedShareOf(kettle);
  const stuck = stuckOf(kettle);
  rows.push({
    target: '0 % of intervals missed, no election stuck',
    measured: cadenceOf(kettle),
    met: missed === undefined || stuck === undefined ? undefined : missed === 0 && stuck === 0,
  });
  const steps = results.electionScale.filter((step) => step.peer === 'kettle');
  const notOne = steps.filter(
    (step) => !step.cost?.mastership || !exactlyOneMaster(step.cost.mastership),
  );
  rows.push({
    target: `every election exactly one master, at every level (${levels.map(count).join(', ')})`,
    measured:
      notOne.length === 0
        ? `${steps.length} of ${levels.length} levels`
        : notOne.map((step) => `at ${count(step.elections)}: ${masterOf(step)}`).join('; '),
    met: steps.length === levels.length && notOne.length === 0,
  });
  lines.push(targetTable(rows), '', SCALE_TARGETS_END);
  return lines.join('\n');
}
