import { cronFigures, type LeftSlots, type SlotCounts } from '../analysis/cron-slots.js';
import { peer } from '../peers.js';
import type { BenchResults } from '../results.js';
import type { CronSession } from '../scenarios/cron.js';
import { DASH, label, num, table, triple } from './format.js';

/** Marks the cron section in REPORT.md, so that `--only cron` can replace it alone. */
export const CRON_START = '<!-- cron section: start -->';
export const CRON_END = '<!-- cron section: end -->';

const KETTLE_MODES = ['kettle-cron', 'kettle-guard'];

/** "3 (2.1%)": a count and its share of the slots. */
function share(count: number, slots: number): string {
  return slots === 0 ? String(count) : `${count} (${num((100 * count) / slots, 1)}%)`;
}

function sum(rows: readonly SlotCounts[], field: 'slots' | 'runs' | 'twice' | 'missed'): number {
  return rows.reduce((total, row) => total + row[field], 0);
}

/** Section 6 of the report: the cron scenario, from its sessions alone. */
export function cronSection(results: BenchResults): string {
  const { config, skipped, machine } = results;
  const sessions = results.cron ?? [];
  const { cron, leaseTtl } = config;
  const figures = sessions.map((session) => ({
    session,
    f: cronFigures(session, cron.periodMs),
  }));
  const byKind = (kind: 'graceful' | 'crash') =>
    figures.map(({ session, f }) => ({
      session,
      faults: f.faults.filter((fault) => fault.kind === kind),
    }));
  const lines: string[] = [
    CRON_START,
    '## 6. Cron schedules',
    '',
    `Measured in one run on ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC (${num(results.seconds / 60, 1)}-minute run, 1-minute load average ${num(machine.loadBefore)} before and ${num(machine.loadAfter)} after); it may be a later run than the sections above (\`--only cron\`).`,
    '',
    `One job on the schedule \`${cron.expression}\` (every second), ${config.nodes} nodes, lease (lock TTL) ${leaseTtl} ms. ` +
      `Per peer: ${num(cron.steadyMs / 1000, 0)} s with no fault, then ${cron.gracefuls} graceful stops (SIGTERM) and ${cron.crashes} crashes (SIGKILL) of the node that ran the job last, at a random moment within a second after one of its runs; ` +
      `the cluster then runs one node short for ${num(cron.afterFaultMs / 1000, 0)} s after the node has exited, and a warm spare replaces it.`,
    '',
    table(
      ['peer', 'how its node runs the job'],
      sessions.map((s) => [label(s.peer), peer(s.peer).how]),
      true,
    ),
    '',
    '### Every slot of the session',
    '',
    'From the slot of the first run to the slot of the last, faults included. Lateness is a run\u2019s start minus its slot.',
    '',
    table(
      ['peer', 'slots', 'runs', 'slots run twice', 'slots missed', 'lateness p50 / p95 / max (ms)'],
      figures.map(({ session, f }) => [
        label(session.peer),
        String(f.whole.slots),
        String(f.whole.runs),
        share(f.whole.twice, f.whole.slots),
        share(f.whole.missed, f.whole.slots),
        triple(f.whole.lateness),
      ]),
    ),
    '',
    '### By scenario',
    '',
    table(
      [
        'peer',
        'steady: twice / missed (of slots)',
        'graceful stops: twice / missed (of slots at the hand-overs)',
        'crashes: twice / missed (of slots at the crashes)',
        'crashes: runs of the slots each crash left (of those slots; the first run\u2019s lateness, s)',
        'after each replacement: twice / missed (of slots)',
      ],
      figures.map(({ session, f }) => {
        const graceful = f.faults.filter((fault) => fault.kind === 'graceful');
        const crash = f.faults.filter((fault) => fault.kind === 'crash');
        return [
          label(session.peer),
          `${f.steady.twice} / ${f.steady.missed} (of ${f.steady.slots})`,
          `${sum(graceful, 'twice')} / ${sum(graceful, 'missed')} (of ${sum(graceful, 'slots')})`,
          `${sum(crash, 'twice')} / ${sum(crash, 'missed')} (of ${sum(crash, 'slots')})`,
          crash.length > 0 ? crash.map((fault) => leftText(fault.left)).join('; ') : DASH,
          `${f.rest.twice} / ${f.rest.missed} (of ${f.rest.slots})`,
        ];
      }),
    ),
    '',
    'The last column holds the slots in none of the other windows: from each replacement\u2019s start until the next fault, and after the last one.',
    '',
    '### kettle\u2019s cron targets',
    '',
    cronTargets(figures, byKind),
    '',
    catchUpFinding(byKind),
    '',
    '### How the cron figures were taken',
    '',
    `- **Slots.** Each node reports each run with its start and its slot: \`scheduledAt\` for kettle\u2019s \`cron\`; for the \`@Cron\` peers (kettle guarding \`@Cron\`, redlock) the firing time rounded to the second, read when @nestjs/schedule calls the method, before kettle\u2019s guard or redlock\u2019s lock; for BullMQ the date its job scheduler created the job for. A slot is run twice when two or more runs report it, missed when none does; slots before the first run and after the last are not counted.`,
    `- **At the hand-over.** A fault\u2019s slots are those from the last one due at or before the signal to the last one due before the replacement starts (${num(cron.afterFaultMs / 1000, 0)} s after the node exited): the slot the node may have been running, those while it shut down, and those until a surviving node runs the job. "No slot missed at a graceful hand-over" is judged on these slots of the graceful stops.`,
    `- **The catch-up run.** The slots a crash left are those from the first one after the crashed node\u2019s last run to the first one another node ran. With \`catchUp: 'latest'\` kettle collapses them: the new master runs the latest slot due (on Redis\u2019s clock) when it takes over, once, and none before it. More than one run of them means the missed slots were run one by one.`,
    '- **Reproduce this section alone:** `npm run bench -- --only cron` (or `npm run bench:smoke -- --only cron`, a short run) measures the cron scenario only and replaces this section of the report, leaving the others as they were measured.',
    '- **Time.** Run starts are stamped as in the other sections (monotonic, anchored at each process\u2019s start). Slots come from the wall clock: Redis\u2019s for kettle\u2019s `cron`, the node\u2019s for the others, on the same machine.',
  ];
  const offGrid = figures.filter(({ f }) => f.offGrid > 0);
  if (offGrid.length > 0)
    lines.push(
      `- Runs whose slot was not on the schedule\u2019s whole seconds, left out of the counts: ${offGrid.map(({ session, f }) => `${label(session.peer)} ${f.offGrid}`).join(', ')}.`,
    );
  const cronSkipped = skipped.filter((line) => line.startsWith('Cron'));
  if (cronSkipped.length > 0) lines.push('', ...cronSkipped.map((line) => `- ${line}`));
  lines.push(CRON_END);
  return lines.join('\n');
}

/** What kettle's native cron did with the slots its crashes left. */
function catchUpFinding(
  byKind: (
    kind: 'crash',
  ) => ReadonlyArray<{ session: CronSession; faults: ReturnType<typeof cronFigures>['faults'] }>,
): string {
  const native = byKind('crash').find((c) => c.session.peer === 'kettle-cron');
  if (!native || native.faults.length === 0) return '';
  const left = native.faults.flatMap((fault) => (fault.left ? [fault.left] : []));
  const slots = left.reduce((n, l) => n + l.slots, 0);
  const runs = left.reduce((n, l) => n + l.runs, 0);
  return (
    `At ${native.faults.length} crashes of kettle\u2019s \`cron\` master, ${sum(native.faults, 'missed')} of ${sum(native.faults, 'slots')} slots were missed and ${sum(native.faults, 'twice')} ran twice. ` +
    `The crashes left ${slots} slots until the new master took over (about a lease after the crash), and ${runs} runs were made of them: with \`catchUp: 'latest'\` they collapse into one run per crash, of the latest slot due, at most ${num(Math.max(...left.map((l) => l.firstLatenessMs)) / 1000)} s after it fell due.`
  );
}

/** "1 (of 3; 0.42)": runs of the slots a crash left, of how many, and the first run's lateness. */
function leftText(left: LeftSlots | undefined): string {
  if (!left) return DASH;
  return `${left.runs} (of ${left.slots}; ${num(left.firstLatenessMs / 1000)})`;
}

function cronTargets(
  figures: ReadonlyArray<{ session: CronSession; f: ReturnType<typeof cronFigures> }>,
  byKind: (
    kind: 'graceful' | 'crash',
  ) => ReadonlyArray<{ session: CronSession; faults: ReturnType<typeof cronFigures>['faults'] }>,
): string {
  const rows: string[][] = [];
  const verdict = (met: boolean) => (met ? 'met' : '**missed**');
  for (const { session, f } of figures.filter(({ session }) =>
    KETTLE_MODES.includes(session.peer),
  )) {
    rows.push([
      `${label(session.peer)}: 0 slots run twice, in every scenario`,
      `${f.whole.twice} of ${f.whole.slots} slots`,
      verdict(f.whole.twice === 0),
    ]);
    const graceful = byKind('graceful').find((g) => g.session === session)!.faults;
    rows.push([
      `${label(session.peer)}: no slot missed at a graceful hand-over`,
      `${sum(graceful, 'missed')} of ${sum(graceful, 'slots')} slots, over ${graceful.length} stops`,
      verdict(sum(graceful, 'missed') === 0),
    ]);
  }
  const native = byKind('crash').find((c) => c.session.peer === 'kettle-cron');
  if (native)
    rows.push([
      `${label('kettle-cron')}, \`catchUp: 'latest'\`: exactly one catch-up run at each crash`,
      `${native.faults.map((fault) => fault.left?.runs ?? DASH).join(', ')} run(s) of the slots each crash left`,
      verdict(native.faults.every((fault) => fault.left?.runs === 1)),
    ]);
  return rows.length > 0
    ? table(['target', 'measured', 'result'], rows, true)
    : '_kettle was not measured._';
}
