import type { FiringSlots } from '../core/election/firing-slots.interface.js';
import { CLOCK_OFFSET_ALLOWANCE_MS, CronSchedule, slotGraceMs } from '../core/election/schedule.js';

/** @nestjs/schedule's metadata keys and scheduler types (read, not imported: it is optional). */
const SCHEDULER_TYPE = 'SCHEDULER_TYPE';
const SCHEDULE_CRON_OPTIONS = 'SCHEDULE_CRON_OPTIONS';
const SCHEDULE_INTERVAL_OPTIONS = 'SCHEDULE_INTERVAL_OPTIONS';
const CRON = 1;
const INTERVAL = 3;

/**
 * cron fires on time or a little after, never before: a firing this early still belongs to the
 * slot it was set for (a timer a few ms ahead of the wall clock).
 */
const EARLY_FIRING_MS = 50;
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** A method that @nestjs/schedule fires: its slots, read off its metadata. */
export function firingSlotsOf(method: object): FiringSlots {
  const type: unknown = Reflect.getMetadata(SCHEDULER_TYPE, method);
  if (type === CRON) {
    const options = Reflect.getMetadata(SCHEDULE_CRON_OPTIONS, method) as
      { cronTime?: unknown; timeZone?: unknown; utcOffset?: unknown } | undefined;
    const schedule = cronScheduleOf(options);
    if (schedule) return cronSlots(schedule);
  }
  if (type === INTERVAL) {
    const options = Reflect.getMetadata(SCHEDULE_INTERVAL_OPTIONS, method) as
      { timeout?: unknown } | undefined;
    const period = Number(options?.timeout);
    if (Number.isFinite(period) && period >= 1) return intervalSlots(Math.round(period));
  }
  return ONCE;
}

/**
 * A cron expression in a zone: the firing's slot is the expression's latest instant at or before
 * it. A `cronTime` that is a date, or a `utcOffset`, fires once or in a fixed offset: its firings
 * are slotted as a `@Timeout`'s.
 */
function cronScheduleOf(
  options: { cronTime?: unknown; timeZone?: unknown; utcOffset?: unknown } | undefined,
): CronSchedule | undefined {
  if (typeof options?.cronTime !== 'string' || options.utcOffset != null) return undefined;
  const timeZone = typeof options.timeZone === 'string' ? options.timeZone : undefined;
  try {
    return new CronSchedule(options.cronTime, timeZone);
  } catch {
    // @nestjs/schedule refuses it at bootstrap, with its own error.
    return undefined;
  }
}

function cronSlots(schedule: CronSchedule): FiringSlots {
  return {
    slotAt: (nowMs) => schedule.latestAtOrBefore(nowMs + EARLY_FIRING_MS),
    graceMs: slotGraceMs,
    keepMs: (slotMs) => schedule.keepMs(slotMs),
    schedule: schedule.identity,
  };
}

/**
 * An interval starts when each node boots, so the nodes fire out of phase, and each drifts: a
 * firing runs when none was claimed in the last half period on the store's clock. While one
 * master fires, every firing runs (its firings are a period apart); at a hand-over, no two runs
 * are closer than half a period. The slot is this node's now, for the claim's bookkeeping only.
 */
function intervalSlots(period: number): FiringSlots {
  return {
    slotAt: (nowMs) => nowMs,
    graceMs: (renewEvery) => period + slotGraceMs(renewEvery),
    keepMs: () => Math.max(2 * period + 2 * CLOCK_OFFSET_ALLOWANCE_MS, MINUTE_MS),
    sinceLastMs: period / 2,
  };
}

/**
 * A `@Timeout` fires once per process, when each node's delay runs out: its slot is that instant.
 * No two firings share it, so the claim adds the owner check and the start margin (the body runs
 * on the master only, never on a lost lease), not a once-for-all-nodes: a node that boots later
 * and leads by then runs its own firing too.
 */
const ONCE: FiringSlots = {
  slotAt: (nowMs) => nowMs,
  graceMs: slotGraceMs,
  keepMs: () => DAY_MS,
};
