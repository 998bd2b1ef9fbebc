import { type BalanceFigures, balanceFigures, type PhaseFigures } from '../analysis/balance.js';
import { peer } from '../peers.js';
import type { BenchResults } from '../results.js';
import type { BalancePhaseName } from '../scenarios/balance.js';
import { DASH, label, num, ratio, table } from './format.js';

/** Marks the balance section in REPORT.md, so that `--only balance` can replace it alone. */
export const BALANCE_START = '<!-- balance section: start -->';
export const BALANCE_END = '<!-- balance section: end -->';

type Figure = (phase: PhaseFigures, all: BalanceFigures) => { text: string; value?: number };

interface Row {
  phase: BalancePhaseName;
  figure: string;
  of: Figure;
}

const seconds = (ms: number) => `${num(ms / 1000, 1)} s`;
const spread = (counts: readonly number[]) => counts.join(' / ');
const most = (counts: readonly number[]) => Math.max(...counts);

const reached: Figure = (p) =>
  p.fairMs === undefined
    ? { text: `not within the phase (${seconds(p.ms)})` }
    : { text: seconds(p.fairMs), value: p.fairMs };
const atEnd: Figure = (p) => ({ text: spread(p.end), value: most(p.end) });
const handOvers: Figure = (p) => ({
  text: `${p.handOvers} (${p.rebalanced}) / ${p.needed}`,
  value: p.handOvers,
});
const slots: Figure = (p) => ({
  text: `${p.slots.missed} / ${p.slots.twice} (of ${p.slots.runs.toLocaleString('en-US')} runs)`,
  value: p.slots.missed,
});

/** The rows of the table: the phases after the first node's boot, and what each is judged by. */
function rows(figures: BalanceFigures): Row[] {
  const share = (name: BalancePhaseName) => figures.phases.find((p) => p.name === name)?.share;
  return [
    { phase: 'join', figure: `time until every node is within 1 of ${share('join')}`, of: reached },
    { phase: 'join', figure: 'elections each node leads at the end', of: atEnd },
    { phase: 'join', figure: 'hand-overs (`rebalanced`) / fewest to the share', of: handOvers },
    { phase: 'join', figure: 'slots missed / run twice', of: slots },
    {
      phase: 'stable',
      figure: 'hand-overs per minute',
      of: (p) => {
        const perMinute = p.handOvers / (p.ms / 60_000);
        const rate = num(perMinute, perMinute === 0 ? 0 : 1);
        return { text: `${rate} (${p.handOvers} in ${seconds(p.ms)})`, value: perMinute };
      },
    },
    {
      phase: 'stable',
      figure: 'elections each node led, lowest–highest over the phase',
      of: (p) => ({
        text: p.low
          .map((low, i) => (low === p.high[i] ? `${low}` : `${low}–${p.high[i]}`))
          .join(' / '),
        value: most(p.high),
      }),
    },
    { phase: 'stable', figure: 'slots missed / run twice', of: slots },
    {
      phase: 'kill',
      figure: 'elections the killed node led',
      of: (p, all) => {
        const stable = all.phases.find((phase) => phase.name === 'stable');
        const index = stable?.nodes.indexOf(p.changed[0] ?? '') ?? -1;
        const led = index >= 0 ? stable!.end[index] : undefined;
        return { text: led === undefined ? DASH : String(led), value: led };
      },
    },
    {
      phase: 'kill',
      figure: `time until the survivors are within 1 of ${share('kill')}`,
      of: reached,
    },
    { phase: 'kill', figure: 'elections each survivor leads at the end', of: atEnd },
    { phase: 'kill', figure: 'hand-overs (`rebalanced`) / fewest to the share', of: handOvers },
    { phase: 'kill', figure: 'slots missed / run twice', of: slots },
    {
      phase: 'restart',
      figure: `time until every node is within 1 of ${share('restart')}`,
      of: reached,
    },
    { phase: 'restart', figure: 'elections each node leads at the end', of: atEnd },
    { phase: 'restart', figure: 'hand-overs (`rebalanced`) / fewest to the share', of: handOvers },
    { phase: 'restart', figure: 'slots missed / run twice', of: slots },
  ];
}

function phaseLabel(name: BalancePhaseName, figures: BalanceFigures, nodes: number): string {
  const phase = figures.phases.find((p) => p.name === name);
  switch (name) {
    case 'boot':
      return 'one node boots';
    case 'join':
      return `${nodes - 1} more nodes start`;
    case 'stable':
      return `nothing happens for ${phase ? seconds(phase.ms) : DASH}`;
    case 'kill':
      return 'SIGKILL of the node leading most';
    case 'restart':
      return 'a new node starts in its place';
  }
}

/** Section 7 of the report: the balance scenario, from its sessions alone. */
export function balanceSection(results: BenchResults): string {
  const { config, machine, skipped } = results;
  const { balance, interval, leaseTtl } = config;
  const sessions = results.balance ?? [];
  const on = sessions.find((s) => s.peer === 'kettle-balance');
  const off = sessions.find((s) => s.peer === 'kettle-unbalanced');
  const onFigures = on && balanceFigures(on);
  const offFigures = off && balanceFigures(off);
  const lines: string[] = [
    BALANCE_START,
    '## 7. Balance',
    '',
    `Measured in one run on ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC (${num(results.seconds / 60, 1)}-minute run, 1-minute load average ${num(machine.loadBefore)} before and ${num(machine.loadAfter)} after); it may be a later run than the sections above (\`--only balance\`).`,
    '',
    `${balance.nodes} kettle node processes share ${balance.elections} elections (interval ${interval} ms, lease ${leaseTtl} ms): one node boots and leads them all; ${balance.nodes - 1} more start; nothing happens for ${num(balance.stableMs / 1000, 0)} s; the node leading most (the last started, on a tie) gets a SIGKILL; a new node process starts in its place. ` +
      `Each phase after a start or a kill lasts until no leadership has changed for ${num(balance.quietMs / 1000, 0)} s (${num(balance.phaseLimitMs / 1000, 0)} s at most). ` +
      'The baseline is the same nodes without `balance`: only kettle balances, the other peers have no notion of it.',
    '',
    table(
      ['set-up', 'how its node runs'],
      sessions.map((s) => [label(s.peer), peer(s.peer).how]),
      true,
    ),
    '',
  ];
  if (!onFigures) {
    lines.push('_kettle with `balance: true` was not measured._');
  } else {
    const offLabel = off ? label(off.peer) : `${label('kettle-unbalanced')} (not run)`;
    const body = rows(onFigures).map((row, i, all) => {
      const onPhase = onFigures.phases.find((p) => p.name === row.phase);
      const offPhase = offFigures?.phases.find((p) => p.name === row.phase);
      const a = onPhase && row.of(onPhase, onFigures);
      const b = offPhase && row.of(offPhase, offFigures!);
      const quotient =
        a?.value === undefined || b?.value === undefined || b.value === 0
          ? DASH
          : ratio(a.value, b.value);
      const first = i === 0 || all[i - 1]!.phase !== row.phase;
      return [
        first ? phaseLabel(row.phase, onFigures, balance.nodes) : '',
        row.figure,
        a?.text ?? DASH,
        b?.text ?? DASH,
        quotient,
      ];
    });
    lines.push(
      table(['phase', 'figure', label('kettle-balance'), offLabel, 'on / off'], body, true),
      '',
      `Every slot of the whole session: ${wholeLine(onFigures)} with balance; ${offFigures ? wholeLine(offFigures) : 'the baseline was not run'} without.`,
      '',
      movedAgainLine(onFigures),
      '',
      target(onFigures),
    );
  }
  lines.push(
    '',
    '### How the balance figures were taken',
    '',
    '- **Leadership.** Every node prints each change of its leadership of every election (`leadership$`, with the reason of a step-down). The driver replays them: a node leads what it took and has not given up; a killed node leads nothing from its kill on, though its leases live on until they run out.',
    '- **Within 1 of the share.** The share is ⌈elections / live nodes⌉. The time is from the start of the phase (the new nodes\u2019 start, their app\u2019s boot included; the signal) to the first moment when every election had exactly one live leader and every live node led within one of the share.',
    '- **Hand-overs** are the leaderships a live node took in the phase, fail-overs included; `rebalanced` counts those given up by balancing. The fewest is what the phase needed to bring every node to its share or under from where it began: the elections no live node led, and what each node led over its share. "Per minute" is over the stable phase.',
    '- **Slots.** Every run of every election reports the slot it claimed (`scheduledAt`). Per election, runs in slot order: one less than half an interval after the previous is a slot run twice; one g ≥ 1.5 intervals after it skipped round(g) − 1 slots. Each is counted in the phase its later run started in: the slots a crash skips fall in the kill phase.',
    '- **on / off:** the figure with balance divided by the baseline\u2019s (for a distribution, the most any node leads); a dash where either is missing or the baseline\u2019s is 0.',
    '- **Reproduce this section alone:** `npm run bench -- --only balance` (or `npm run bench:smoke -- --only balance`, a short run with a shorter stable phase and no baseline) measures the balance scenario only and replaces this section of the report.',
  );
  for (const session of sessions.filter((s) => s.error))
    lines.push(`- ${label(session.peer)} stopped early: ${session.error}.`);
  const balanceSkipped = skipped.filter((line) => line.startsWith('Balance'));
  if (balanceSkipped.length > 0) lines.push('', ...balanceSkipped.map((line) => `- ${line}`));
  lines.push(BALANCE_END);
  return lines.join('\n');
}

function wholeLine(figures: BalanceFigures): string {
  const { runs, missed, twice } = figures.whole;
  return `${runs.toLocaleString('en-US')} runs, ${missed} slots missed, ${twice} run twice`;
}

/** Elections that did not go straight to where they ended, phase by phase. */
function movedAgainLine(figures: BalanceFigures): string {
  const phases = figures.phases.filter((p) => p.name !== 'boot');
  const counts = phases.map((p) => `${p.movedAgain} in the ${PHASE_NOUN[p.name]}`).join(', ');
  return `With balance, elections that changed master twice or more within one phase (taken, then handed on): ${counts}.`;
}

const PHASE_NOUN: Record<BalancePhaseName, string> = {
  boot: 'boot',
  join: 'join',
  stable: 'stable phase',
  kill: 'kill',
  restart: 'restart',
};

/** The ask: no ping-pong in a stable fleet. */
function target(figures: BalanceFigures): string {
  const stable = figures.phases.find((p) => p.name === 'stable');
  if (!stable) return '**Target, no hand-over in a stable fleet:** not measured.';
  const met = stable.handOvers === 0;
  return `**Target, no hand-over in a stable fleet:** ${stable.handOvers} in ${seconds(stable.ms)}, ${met ? 'met' : '**missed**'}.`;
}
