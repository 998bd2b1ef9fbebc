import { CATCH_UP_LATENESS_MS, cronFigures, type SlotCounts } from '../analysis/cron-slots.js';
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
        `crashes: runs > ${CATCH_UP_LATENESS_MS / 1000} s late (their lateness, s), per crash`,
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
          crash.length > 0 ? crash.map((fault) => lateRunsText(fault.lateRuns)).join('; ') : DASH,
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
    catchUpFinding(byKind, leaseTtl),
    '',
    '### How the cron figures were taken',
    '',
    `- **Slots.** Each node reports each run with its start and its slot: \`scheduledAt\` for kettle\u2019s \`cron\`; for the \`@Cron\` peers (kettle guarding \`@Cron\`, redlock) the firing time rounded to the second, read when @nestjs/schedule calls the method, before kettle\u2019s guard or redlock\u2019s lock; for BullMQ the date its job scheduler created the job for. A slot is run twice when two or more runs report it, missed when none does; slots before the first run and after the last are not counted.`,
    `- **At the hand-over.** A fault\u2019s slots are those from the last one due at or before the signal to the last one due before the replacement starts (${num(cron.afterFaultMs / 1000, 0)} s after the node exited): the slot the node may have been running, those while it shut down, and those until a surviving node runs the job. "No slot missed at a graceful hand-over" is judged on these slots of the graceful stops.`,
    `- **The catch-up run.** After a crash, a run of one of the crash\u2019s slots, by a node other than the crashed one, that started more than ${CATCH_UP_LATENESS_MS / 1000} s after its slot. With \`catchUp: 'latest'\` kettle runs, of the slots that fell due while nobody held the lease, the ones still within their grace (2 s plus a third of the lease) late, in order, and of the older ones the latest, once: every such run counts here, so more than one means that several slots were within their grace when the new master took over.`,
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

/**
 * What the late runs after kettle's crashes were: slots within their grace, run late in order, or
 * catch-up runs proper (a slot past its grace, run under `catchUp: 'latest'`).
 */
function catchUpFinding(
  byKind: (
    kind: 'crash',
  ) => ReadonlyArray<{ session: CronSession; faults: ReturnType<typeof cronFigures>['faults'] }>,
  leaseTtl: number,
): string {
  const native = byKind('crash').find((c) => c.session.peer === 'kettle-cron');
  if (!native || native.faults.length === 0) return '';
  const grace = 2000 + Math.floor(leaseTtl / 3);
  const late = native.faults.flatMap((fault) => fault.lateRuns);
  const pastGrace = late.filter((ms) => ms > grace).length;
  return (
    `At ${native.faults.length} crashes of kettle\u2019s \`cron\` master, ${sum(native.faults, 'missed')} of ${sum(native.faults, 'slots')} slots were missed and ${sum(native.faults, 'twice')} ran twice. ` +
    `Of its ${late.length} runs more than ${CATCH_UP_LATENESS_MS / 1000} s late, ${late.length - pastGrace} were of slots still within their grace (${grace} ms: 2 s plus a third of the lease) when the new master took over, run late one after the other, and ${pastGrace} of a slot past its grace, the catch-up run proper of \`catchUp: 'latest'\`. ` +
    (pastGrace > 0
      ? ''
      : `With a ${leaseTtl} ms lease the new master takes over within about a lease of the crash, so the slots of the crash are all within their grace: the catch-up of a slot past its grace is shown by the fault test with a 12 s lease (docs/RELIABILITY.md), not here.`)
  );
}

/** "2 (2.04, 1.05)": how many runs were late, and by how many seconds each. */
function lateRunsText(lateness: readonly number[]): string {
  if (lateness.length === 0) return '0';
  return `${lateness.length} (${lateness.map((ms) => num(ms / 1000)).join(', ')})`;
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
      `${native.faults.map((fault) => fault.lateRuns.length).join(', ')} run(s) > ${CATCH_UP_LATENESS_MS / 1000} s late`,
      verdict(native.faults.every((fault) => fault.lateRuns.length === 1)),
    ]);
  return rows.length > 0
    ? table(['target', 'measured', 'result'], rows, true)
    : '_kettle was not measured._';
}
