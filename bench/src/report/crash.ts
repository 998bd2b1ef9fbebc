import { crashPollMs } from '../config.js';
import { PEERS, peer } from '../peers.js';
import type { BenchResults } from '../results.js';
import type { CrashSession } from '../scenarios/crash.js';
import { DASH, label, num, samplesOf, stat, table } from './format.js';
import { faultTable } from './sections.js';

/** Marks the crash section in REPORT.md, so that `--only crash` can replace it alone. */
export const CRASH_START = '<!-- crash section: start -->';
export const CRASH_END = '<!-- crash section: end -->';

/** What kettle with crashDetection 'connection' aims at: a crash followed within this, p95. */
const HAND_OVER_P95_MS = 1000;
/** ...and the commands its poll adds, per node per poll period, at most. */
const POLL_COMMANDS_PER_NODE = 1;

const seconds = (ms: number) => `${num(ms / 1000, ms % 1000 === 0 ? 0 : 1)} s`;

/** PUBSUB NUMSUB that Redis executed per follower (every node but the master) per poll. */
function numsubPerFollowerPerPoll(session: CrashSession): number | undefined {
  const { cost } = session;
  const numsub = cost.redis.byCommand.find((c) => c.command === 'pubsub|numsub')?.perSecond ?? 0;
  if (cost.nodes < 2) return undefined;
  return ((numsub / (cost.nodes - 1)) * crashPollMs(session.leaseTtl)) / 1000;
}

/** Section 8 of the report: the crash section, from its sessions alone. */
export function crashSection(results: BenchResults): string {
  const { config, machine, skipped } = results;
  const { crash, interval } = config;
  const sessions = results.crash ?? [];
  const { leaseTtl } = crash;
  const pollMs = crashPollMs(leaseTtl);
  const connection = sessions.find((s) => s.peer === 'kettle-connection');
  const lease = sessions.find((s) => s.peer === 'kettle-lease');
  // The section's two kettle set-ups stand for kettle.
  const leftOut = PEERS.filter((p) => p.id !== 'kettle' && !crash.peers.includes(p.id)).map(
    (p) => p.label,
  );
  const lines: string[] = [
    CRASH_START,
    '## 8. Crash detection',
    '',
    `Measured in one run on ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC (${num(results.seconds / 60, 1)}-minute run, 1-minute load average ${num(machine.loadBefore)} before and ${num(machine.loadAfter)} after); it may be a later run than the sections above (\`--only crash\`).`,
    '',
    `${crash.nodes} node processes per peer, a job every ${interval} ms, lease (lock TTL) ${leaseTtl} ms (kettle\u2019s default), retry period ${Math.floor(leaseTtl / 3)} ms for the peers that have one. ` +
      `Per peer: a ${seconds(crash.costWindowMs)} steady window; then ${crash.freezes} freezes of the node that ran the job last (SIGSTOP for ${seconds(crash.freezeMs)}, well within the lease, then SIGCONT), each a random time within an interval after one of its runs; ` +
      `then ${crash.crashes} crashes (SIGKILL) of that node, timed as in section 1, each followed by a warm spare. ` +
      `kettle with \`crashDetection: 'connection'\` polls every ${pollMs} ms (leaseTtl / 20) and takes a lease over only from a holder it saw alive at a poll: before its steady window and before every fault, each of its nodes has been up ${seconds(crash.settleMs)}. The other set-ups are faulted as in section 1, with no such wait.`,
    '',
    table(
      ['set-up', 'how its node runs the job'],
      sessions.map((s) => [label(s.peer), peer(s.peer).how]),
      true,
    ),
    '',
  ];
  if (leftOut.length > 0)
    lines.push(
      `Left out to keep the section near five minutes: ${leftOut.join(', ')} (sections 1-4 show each at a ${config.leaseTtl} ms lease).`,
      '',
    );
  if (sessions.length === 0) {
    lines.push('_No set-up was measured._');
  } else {
    lines.push(
      '### Crash of the master (SIGKILL)',
      '',
      faultTable(sessions, 'crash'),
      '',
      '### Slots through the freezes and the crashes',
      '',
      slotsTable(sessions),
      '',
      `### Frozen master (SIGSTOP for ${seconds(crash.freezeMs)})`,
      '',
      freezeTable(sessions),
      '',
      '### Cost at steady state',
      '',
      costTable(sessions, lease),
      '',
      '### kettle\u2019s crash-detection targets',
      '',
      targets(connection, lease, crash.freezeMs),
    );
  }
  lines.push(
    '',
    '### How the crash figures were taken',
    '',
    '- **Crash.** As in section 1: "new leader" is the first leadership another node reports after the SIGKILL, "first run" its first run, "gap" (that run − the killed node\u2019s last run) / interval.',
    `- **kettle\u2019s first run after a takeover.** The new master\u2019s first slot comes an interval after the takeover, on Redis\u2019s clock: at a lease of two intervals or more no claim records the slot it ran, so the new master cannot know the crashed master\u2019s last slot, and waits an interval rather than risk running it twice. Its first run therefore comes about an interval after its leadership.`,
    `- **Freeze.** The node that ran the job last (the master, where the peer elects one) gets SIGSTOP, its sockets left open, and SIGCONT ${seconds(crash.freezeMs)} later. Hand-overs are the leaderships other nodes report from the SIGSTOP until ${seconds(crash.afterFreezeMs)} after the SIGCONT; "stepped down" counts the freezes after which the frozen node itself said it no longer leads, in that time. BullMQ and redlock elect no one: any node runs the next job.`,
    '- **Slots.** Election 0\u2019s runs on every node, read as in section 3 (the grid follows the runs): through the freezes from the first SIGSTOP to the first crash, through the crashes from the first SIGKILL to the end. A frozen master misses the intervals it is stopped for.',
    `- **Cost.** As in section 4, over the steady window. Per election: all nodes\u2019 commands per second over the elections (one here, so it is the per-node figure times the nodes). PUBSUB NUMSUB is Redis\u2019s \`INFO commandstats\` count over the followers (every node but the master), per poll period (${pollMs} ms). "More than \u2018lease\u2019" is the difference in commands sent per node per second between the two kettle set-ups, times the poll period.`,
    '- **Reproduce this section alone:** `npm run bench -- --only crash` (or `npm run bench:smoke -- --only crash`, a short run of the two kettle set-ups) measures the crash section only and replaces this section of the report.',
  );
  const crashSkipped = skipped.filter((line) => line.startsWith('Crash'));
  if (crashSkipped.length > 0) lines.push('', ...crashSkipped.map((line) => `- ${line}`));
  lines.push(CRASH_END);
  return lines.join('\n');
}

function slotsTable(sessions: readonly CrashSession[]): string {
  const rows = sessions.map(({ peer, samples, crashCadence: c, freezeCadence: f }) => [
    label(peer),
    String(samplesOf({ samples }, 'crash').length),
    String(c.intervals),
    String(c.runs),
    String(c.missed),
    `${c.repeated} (${c.repeatedAcrossNodes})`,
    String(f.intervals),
    String(f.missed),
    `${f.repeated} (${f.repeatedAcrossNodes})`,
    termsBack(c.termsBack, f.termsBack),
  ]);
  return table(
    [
      'peer',
      'crashes',
      'crashes: intervals',
      'crashes: runs',
      'crashes: intervals with no run',
      'crashes: intervals with ≥ 2 runs (on ≥ 2 nodes)',
      'freezes: intervals',
      'freezes: intervals with no run',
      'freezes: intervals with ≥ 2 runs (on ≥ 2 nodes)',
      'runs with a lower term than an earlier run',
    ],
    rows,
  );
}

function termsBack(a?: number, b?: number): string {
  return a === undefined && b === undefined ? 'no terms' : String((a ?? 0) + (b ?? 0));
}

function freezeTable(sessions: readonly CrashSession[]): string {
  const rows = sessions.map(({ peer: id, freezes }) => {
    const leader = peer(id).leader;
    const handOvers = freezes.reduce((sum, f) => sum + (f.handOvers ?? 0), 0);
    const steppedDown = freezes.filter((f) => f.steppedDown).length;
    return [
      label(id),
      String(freezes.length),
      leader ? String(handOvers) : 'no leader',
      leader ? String(steppedDown) : 'no leader',
      freezes.map((f) => num(f.resumedRunMs, 0)).join(', ') || DASH,
    ];
  });
  return table(
    [
      'peer',
      'freezes',
      'hand-overs',
      'freezes after which the frozen node stepped down',
      'frozen node’s next run after the SIGCONT, each (ms)',
    ],
    rows,
  );
}

function costTable(sessions: readonly CrashSession[], lease?: CrashSession): string {
  const rows = sessions.map((session) => {
    const { cost } = session;
    const numsub = numsubPerFollowerPerPoll(session);
    return [
      label(session.peer),
      num(cost.sentPerNodePerSecond),
      num((cost.sentPerNodePerSecond * cost.nodes) / cost.elections),
      num(cost.executedPerNodePerSecond),
      cost.runner ? num(cost.runner.sentPerSecond) : DASH,
      cost.follower ? num(cost.follower.sentPerSecond) : DASH,
      num(numsub),
      session.peer === 'kettle-connection' ? num(addedPerPoll(session, lease)) : DASH,
    ];
  });
  return table(
    [
      'peer',
      'cmds sent / node / s',
      'cmds sent / election / s (all nodes)',
      'cmds executed / node / s',
      'runner: sent / s',
      'busiest other node: sent / s',
      'PUBSUB NUMSUB / follower / poll',
      'sent more than ‘lease’, / node / poll',
    ],
    rows,
  );
}

/** Commands sent per node per poll period beyond what the same nodes send with 'lease'. */
function addedPerPoll(connection: CrashSession, lease?: CrashSession): number | undefined {
  if (!lease) return undefined;
  const added = connection.cost.sentPerNodePerSecond - lease.cost.sentPerNodePerSecond;
  return (added * crashPollMs(connection.leaseTtl)) / 1000;
}

function targets(
  connection: CrashSession | undefined,
  lease: CrashSession | undefined,
  freezeMs: number,
): string {
  const verdict = (met: boolean | undefined) =>
    met === undefined ? 'not measured' : met ? 'met' : '**missed**';
  const rows: string[][] = [];
  const kettles = [connection, lease].filter((s): s is CrashSession => s !== undefined);
  for (const field of ['leadMs', 'runMs'] as const) {
    const crash = connection && stat(samplesOf(connection, 'crash'), field);
    const baseline = lease && stat(samplesOf(lease, 'crash'), field);
    const what = field === 'leadMs' ? 'new leader' : 'first run';
    rows.push([
      `${label('kettle-connection')}: crash hand-over p95 ≤ ${HAND_OVER_P95_MS} ms (${what})`,
      crash
        ? `${num(crash.p95)} ms (p50 ${num(crash.p50)}, max ${num(crash.max)}; ‘lease’ p95 ${num(baseline?.p95)})`
        : DASH,
      verdict(crash && crash.p95 <= HAND_OVER_P95_MS),
    ]);
  }
  for (const session of kettles) {
    const twice = session.crashCadence.repeated + session.freezeCadence.repeated;
    const intervals = session.crashCadence.intervals + session.freezeCadence.intervals;
    rows.push([
      `${label(session.peer)}: 0 slots run twice, through the freezes and the crashes`,
      `${twice} of ${intervals} intervals with ≥ 2 runs`,
      verdict(twice === 0),
    ]);
  }
  for (const session of kettles) {
    const handOvers = session.freezes.reduce((sum, f) => sum + (f.handOvers ?? 0), 0);
    const steppedDown = session.freezes.filter((f) => f.steppedDown).length;
    const ranAgain = session.freezes.filter((f) => f.resumedRunMs !== undefined).length;
    rows.push([
      `${label(session.peer)}: a frozen master (SIGSTOP for ${seconds(freezeMs)}) keeps its leadership`,
      `${handOvers} hand-overs, ${steppedDown} step-downs, ran again after ${ranAgain} of ${session.freezes.length} freezes`,
      verdict(
        session.freezes.length === 0
          ? undefined
          : handOvers === 0 && steppedDown === 0 && ranAgain === session.freezes.length,
      ),
    ]);
  }
  const added = connection && addedPerPoll(connection, lease);
  const perPoll = (session: CrashSession) =>
    num((session.cost.sentPerNodePerSecond * crashPollMs(session.leaseTtl)) / 1000);
  rows.push([
    `${label('kettle-connection')}: at most ${POLL_COMMANDS_PER_NODE} command per node per poll period more than ‘lease’`,
    added === undefined
      ? DASH
      : `${num(added)} more (${perPoll(connection!)} vs ${perPoll(lease!)} sent / node / poll; ${num(connection!.cost.sentPerNodePerSecond)} vs ${num(lease!.cost.sentPerNodePerSecond)} / s)`,
    verdict(added === undefined ? undefined : added <= POLL_COMMANDS_PER_NODE),
  ]);
  return table(['target', 'measured', 'result'], rows, true);
}
