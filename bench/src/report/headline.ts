import type { BenchResults } from '../results.js';
import { DASH, label, num, ratio, table } from './format.js';
import { COMPARED, metrics, type PeerMetrics } from './metrics.js';

/** One row per peer, the figures a user chooses by; the sections below have the rest. */
export function headline(results: BenchResults): string {
  const rows = results.sessions.map((session) => {
    const m = metrics(session);
    return [
      label(session.peer),
      `${num(m.crashRunP50)} / ${num(m.crashRunP95)}`,
      num(m.gracefulLeadP50),
      num(m.gracefulGapP50),
      `${m.repeated} of ${m.intervals}`,
      `${m.missed} of ${m.intervals}`,
      `${num(m.sent)} / ${num(m.executed)}`,
    ];
  });
  return table(
    [
      'peer',
      'crash: first run p50 / p95 (ms)',
      'graceful: new leader p50 (ms)',
      'graceful: gap p50 (intervals)',
      'intervals with ≥ 2 runs',
      'intervals with no run',
      'Redis cmds / node / s, sent / executed',
    ],
    rows,
  );
}

/** Each peer's figure divided by kettle's: below 1× the peer's is lower (better, for all of these). */
export function ratios(results: BenchResults): string {
  const kettle = results.sessions.find((session) => session.peer === 'kettle');
  if (!kettle) return '_kettle was not measured: no ratios._';
  const k = metrics(kettle);
  const keys: Array<keyof PeerMetrics> = [
    'crashRunP50',
    'crashRunP95',
    'gracefulLeadP50',
    'gracefulRunP50',
    'sent',
    'executed',
    'redisCpu',
    'runnerCpu',
    'runnerRss',
  ];
  const rows = results.sessions
    .filter((session) => session !== kettle)
    .map((session) => {
      const m = metrics(session);
      return [label(session.peer), ...keys.map((key) => ratio(m[key] as number, k[key] as number))];
    });
  return table(
    [
      'peer ÷ kettle',
      'crash p50',
      'crash p95',
      'graceful leader p50',
      'graceful first run p50',
      'cmds sent',
      'cmds executed',
      'Redis CPU',
      'node CPU',
      'node RSS',
    ],
    rows,
  );
}

/** Every headline figure on which a peer did better than kettle by more than 10 %. */
export function whereBetter(results: BenchResults): string {
  const kettle = results.sessions.find((session) => session.peer === 'kettle');
  if (!kettle) return '';
  const k = metrics(kettle);
  const lines: string[] = [];
  for (const session of results.sessions) {
    if (session === kettle) continue;
    const m = metrics(session);
    const better = COMPARED.filter(({ key }) => {
      const mine = m[key] as number | undefined;
      const theirs = k[key] as number | undefined;
      if (mine === undefined || theirs === undefined) return false;
      return mine < theirs * 0.9 && theirs - mine > (key === 'missed' ? 0 : 1e-9);
    });
    if (better.length === 0) continue;
    const parts = better.map(
      ({ key, what, unit, digits }) =>
        `${what}: ${num(m[key] as number, digits)} vs ${num(k[key] as number, digits)}${unit ? ` ${unit}` : ''}`,
    );
    lines.push(`- **${label(session.peer)}**: ${parts.join('; ')}.`);
  }
  return lines.length > 0
    ? lines.join('\n')
    : `- No peer beat kettle by more than 10 % on any headline figure ${DASH} in this run.`;
}
