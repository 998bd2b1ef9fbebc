import type { CronFault, CronRun, CronSession } from '../scenarios/cron.js';
import { type Summary, summarize } from './percentiles.js';

/** What happened to the slots that fell due in a window. */
export interface SlotCounts {
  /** Slots that fell due in the window. */
  slots: number;
  runs: number;
  /** Slots run twice or more. */
  twice: number;
  /** Slots not run at all. */
  missed: number;
  /** start − slot of every run of these slots, ms. */
  lateness?: Summary;
}

/**
 * The slots a fault left: from the first one after the victim's last run to the first one another
 * node ran. Missed slots collapse into one run when only that first one ran.
 */
export interface LeftSlots {
  slots: number;
  /** Runs of those slots, by any node. */
  runs: number;
  /** start − slot (ms) of the first run another node made after the fault. */
  firstLatenessMs: number;
}

export interface FaultCounts extends SlotCounts {
  kind: CronFault['kind'];
  /** Undefined when the victim ran nothing, or no other node ran a later slot. */
  left?: LeftSlots;
}

export interface CronFigures {
  /** From the first run's slot to the last run's slot. */
  whole: SlotCounts;
  steady: SlotCounts;
  faults: FaultCounts[];
  /** The slots in none of the windows above: the seconds after each replacement started. */
  rest: SlotCounts;
  /** Runs whose slot is not on the schedule's grid: left out of the counts above. */
  offGrid: number;
}

/**
 * Counts per slot. The whole window runs from the slot of the first run to the slot of the last,
 * so slots before the first run and after the last are not missed. A fault's window ("at the
 * hand-over") holds the slots from the last one due before the signal to the replacement's start.
 */
export function cronFigures(session: CronSession, periodMs: number): CronFigures {
  const { runs } = session;
  const slots = runs.map((run) => run.slot);
  const first = Math.min(...slots);
  const last = Math.max(...slots);
  const steady = {
    from: Math.ceil(session.steadyFrom / periodMs) * periodMs,
    to: Math.floor(session.steadyUntil / periodMs) * periodMs,
  };
  const windows = session.faults.map((fault) => ({
    fault,
    from: Math.floor(fault.at / periodMs) * periodMs,
    to: Math.floor(fault.replacedAt / periodMs) * periodMs,
  }));
  const inAWindow = (slot: number) =>
    [steady, ...windows].some(({ from, to }) => slot >= from && slot <= to);
  return {
    whole: countSlots(runs, first, last, periodMs),
    steady: countSlots(runs, steady.from, steady.to, periodMs),
    rest: countSlots(runs, first, last, periodMs, (slot) => !inAWindow(slot)),
    faults: windows.map(({ fault, from, to }) => {
      const counts = countSlots(runs, from, to, periodMs);
      return { kind: fault.kind, ...counts, left: leftSlots(runs, fault, to, periodMs) };
    }),
    offGrid: runs.filter((run) => run.slot % periodMs !== 0).length,
  };
}

/** The slots `fault` left without a run, up to the first one another node ran after it. */
function leftSlots(
  runs: readonly CronRun[],
  fault: CronFault,
  to: number,
  periodMs: number,
): LeftSlots | undefined {
  const victims = runs.filter((run) => run.node === fault.victim && run.slot <= to);
  if (victims.length === 0) return undefined;
  const victimLast = Math.max(...victims.map((run) => run.slot));
  const after = runs.filter((run) => run.node !== fault.victim && run.slot > victimLast);
  if (after.length === 0) return undefined;
  const first = after.reduce((a, b) => (b.slot < a.slot ? b : a));
  const inGap = runs.filter((run) => run.slot > victimLast && run.slot <= first.slot);
  return {
    slots: (first.slot - victimLast) / periodMs,
    runs: inGap.length,
    firstLatenessMs: first.t - first.slot,
  };
}

/** The slots `from`..`to` (both included, on the period's grid) that `keep` keeps, and their runs. */
function countSlots(
  runs: readonly CronRun[],
  from: number,
  to: number,
  periodMs: number,
  keep: (slot: number) => boolean = () => true,
): SlotCounts {
  const perSlot = new Map<number, number>();
  for (let slot = from; slot <= to; slot += periodMs) if (keep(slot)) perSlot.set(slot, 0);
  const inWindow = runs.filter((run) => perSlot.has(run.slot));
  for (const run of inWindow) perSlot.set(run.slot, perSlot.get(run.slot)! + 1);
  const counts = [...perSlot.values()];
  return {
    slots: counts.length,
    runs: inWindow.length,
    twice: counts.filter((n) => n >= 2).length,
    missed: counts.filter((n) => n === 0).length,
    lateness: summarize(inWindow.map((run) => run.t - run.slot)),
  };
}
