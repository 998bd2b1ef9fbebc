import type {
  BalanceLead,
  BalancePhase,
  BalanceRun,
  BalanceSession,
} from '../scenarios/balance.js';

/** What happened to the slots of every election whose runs started in a window. */
export interface SlotTally {
  runs: number;
  /** Slots skipped: between two runs of one election g intervals apart, round(g) − 1. */
  missed: number;
  /** Runs less than half an interval after the previous run of the same election: a slot again. */
  twice: number;
}

export interface PhaseFigures {
  name: BalancePhase['name'];
  ms: number;
  nodes: string[];
  changed: string[];
  /** ⌈elections / live nodes⌉. */
  share: number;
  /**
   * ms from the phase's start until every election was led by exactly one live node and every
   * live node led within one of `share`; undefined when that never held in the phase.
   */
  fairMs?: number;
  /** What each live node led at the phase's start and end, and its lowest and highest in between. */
  start: number[];
  end: number[];
  low: number[];
  high: number[];
  /** Leaderships a live node took in the phase: every change of master, fail-overs included. */
  handOvers: number;
  /** Of those, leaderships given up with the reason `rebalanced`. */
  rebalanced: number;
  /** Elections taken twice or more in the phase: moved on again rather than once. */
  movedAgain: number;
  /**
   * The fewest hand-overs that bring every live node to its share or under from the phase's start:
   * the elections no live node led, and what each led over its share.
   */
  needed: number;
  slots: SlotTally;
}

export interface BalanceFigures {
  phases: PhaseFigures[];
  whole: SlotTally;
}

/** Replays a session's leadership changes and runs phase by phase. */
export function balanceFigures(session: BalanceSession): BalanceFigures {
  const leads = [...session.leads].sort((a, b) => a.t - b.t);
  const slots = slotTallies(session);
  const phases = session.phases.map((phase, i) =>
    phaseFigures(session, phase, leads, slots[i + 1]!),
  );
  const whole = slots.reduce(
    (sum, tally) => ({
      runs: sum.runs + tally.runs,
      missed: sum.missed + tally.missed,
      twice: sum.twice + tally.twice,
    }),
    { runs: 0, missed: 0, twice: 0 },
  );
  return { phases, whole };
}

function phaseFigures(
  session: BalanceSession,
  phase: BalancePhase,
  leads: readonly BalanceLead[],
  slots: SlotTally,
): PhaseFigures {
  const { nodes } = phase;
  const share = Math.ceil(session.elections / nodes.length);
  const leading = new Map<string, Set<number>>();
  const apply = (lead: BalanceLead) => {
    const led = leading.get(lead.node) ?? new Set<number>();
    if (lead.on) led.add(lead.election);
    else led.delete(lead.election);
    leading.set(lead.node, led);
  };
  const counts = () => nodes.map((node) => leading.get(node)?.size ?? 0);
  /** Each election led by exactly one live node, and each live node within one of its share. */
  const fair = () => {
    const masters = Array.from({ length: session.elections }, () => 0);
    for (const node of nodes) for (const election of leading.get(node) ?? []) masters[election]!++;
    return masters.every((n) => n === 1) && counts().every((n) => Math.abs(n - share) <= 1);
  };
  const before = leads.filter((lead) => lead.t <= phase.from);
  const within = leads.filter((lead) => lead.t > phase.from && lead.t <= phase.to);
  for (const lead of before) apply(lead);
  const start = counts();
  const ledAtStart = new Set(nodes.flatMap((node) => [...(leading.get(node) ?? [])]));
  const low = start.slice();
  const high = start.slice();
  let fairAt = fair() ? phase.from : undefined;
  for (const lead of within) {
    apply(lead);
    counts().forEach((n, i) => {
      low[i] = Math.min(low[i]!, n);
      high[i] = Math.max(high[i]!, n);
    });
    if (fairAt === undefined && fair()) fairAt = lead.t;
  }
  const over = start.reduce((sum, n) => sum + Math.max(0, n - share), 0);
  const taken = within.filter((lead) => lead.on && nodes.includes(lead.node));
  const takes = new Map<number, number>();
  for (const lead of taken) takes.set(lead.election, (takes.get(lead.election) ?? 0) + 1);
  return {
    name: phase.name,
    ms: phase.to - phase.from,
    nodes,
    changed: phase.changed,
    share,
    fairMs: fairAt === undefined ? undefined : fairAt - phase.from,
    start,
    end: counts(),
    low,
    high,
    handOvers: taken.length,
    rebalanced: within.filter((lead) => !lead.on && lead.reason === 'rebalanced').length,
    movedAgain: [...takes.values()].filter((n) => n > 1).length,
    needed: session.elections - ledAtStart.size + over,
    slots,
  };
}

/**
 * Per election, its runs in slot order; each gap between two is a slot again (under half an
 * interval) or skipped slots (round(gap) − 1 from 1.5 intervals), counted in the window the later
 * run started in: [0] before the first phase, [i + 1] from phase i's start to phase i + 1's.
 */
function slotTallies(session: BalanceSession): SlotTally[] {
  const { interval, phases } = session;
  const tallies = Array.from({ length: phases.length + 1 }, () => ({
    runs: 0,
    missed: 0,
    twice: 0,
  }));
  const windowOf = (run: BalanceRun) => {
    let window = 0;
    phases.forEach((phase, i) => {
      if (run.t >= phase.from) window = i + 1;
    });
    return tallies[window]!;
  };
  const byElection = new Map<number, BalanceRun[]>();
  for (const run of session.runs) {
    if (run.slot === undefined) continue;
    const runs = byElection.get(run.election) ?? [];
    runs.push(run);
    byElection.set(run.election, runs);
  }
  for (const runs of byElection.values()) {
    runs.sort((a, b) => a.slot! - b.slot!);
    runs.forEach((run, i) => {
      const tally = windowOf(run);
      tally.runs++;
      if (i === 0) return;
      const gap = (run.slot! - runs[i - 1]!.slot!) / interval;
      if (gap < 0.5) tally.twice++;
      else if (gap >= 1.5) tally.missed += Math.round(gap) - 1;
    });
  }
  return tallies;
}
