import type { BenchResults } from '../results.js';
import { DASH, label, num, table } from './format.js';
import { cadenceOf, KEPT_UP_MISSED, keptUp, metrics } from './metrics.js';

/** Per-election cost at the largest scale may exceed that at one election by this much and count as flat. */
const FLAT = 1.25;

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

  const steps = results.electionScale.filter((step) => step.peer === 'kettle' && step.cost);
  const perElection = (i: number) => steps[i]!.cost!.sentPerNodePerSecond / steps[i]!.elections;
  if (steps.length >= 2) {
    const first = perElection(0);
    const last = perElection(steps.length - 1);
    const failed = results.electionScale.filter((step) => step.peer === 'kettle' && step.error);
    // Fewer commands from a node that fell behind are no saving.
    const behind = steps.filter((step) => !keptUp(step.cost!));
    const count = (n: number) => n.toLocaleString('en-US');
    rows.push({
      target: `cost per election flat from ${count(steps[0]!.elections)} to ${count(steps[steps.length - 1]!.elections)} elections (at most ${FLAT}×), every level keeping its cadence (≤ ${KEPT_UP_MISSED * 100} % of intervals missed)`,
      measured:
        `${num(first)} → ${num(last)} commands sent / election / s (${num(last / first)}×)` +
        behind
          .map((step) => `; fell behind at ${count(step.elections)}: ${cadenceOf(step.cost!)}`)
          .join('') +
        (failed.length > 0
          ? `; failed at ${failed.map((step) => count(step.elections)).join(', ')}`
          : ''),
      met: last <= first * FLAT && failed.length === 0 && behind.length === 0,
    });
  }

  return table(
    ['target', 'measured', 'met'],
    rows.map((row) => [
      row.target,
      row.measured,
      row.met === undefined ? 'not measured' : row.met ? 'yes' : '**no**',
    ]),
  );
}
