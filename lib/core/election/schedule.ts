import { CRON_HORIZON_MS, CronCalendar } from './cron-calendar.js';

/** What a new master does with the slots that fell due while nobody led. */
export type CatchUp = 'none' | 'latest';

export const CATCH_UP_VALUES: readonly CatchUp[] = ['none', 'latest'];

/** The default: a daily job whose master crashed just before its slot still runs that day. */
export const DEFAULT_CATCH_UP: CatchUp = 'latest';

/** How far the nodes' clocks may disagree with the store's, either way, without a double or lost run. */
export const CLOCK_OFFSET_ALLOWANCE_MS = 2000;

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
/**
 * A zone's offset changes at least this far apart (none closer in the tz database): probing the
 * offset at this step finds every change, and at most one lies between two probes.
 */
const CHANGE_SPACING_MS = 7 * DAY_MS;
/** A zone's offset moves by less than this at a change (a day, at most, in the tz database). */
const MAX_SHIFT_MS = 2 * DAY_MS;

/**
 * How late a slot may be claimed and still run when it is not caught up: a node whose clock lags
 * the store's by up to CLOCK_OFFSET_ALLOWANCE_MS claims that much late, and a tick may wait up to
 * a renewal period (a lease too short to start a run is renewed first; a failed claim is retried
 * within half a period). A slot later than that fell due while nobody could run it.
 */
export function slotGraceMs(renewEvery: number): number {
  return CLOCK_OFFSET_ALLOWANCE_MS + renewEvery;
}

/**
 * How far back a node looks, on its own clock, for a slot still within its grace on the store's:
 * the grace, plus the two clocks' disagreement either way. The store has the last word.
 */
export function recentSlotsMs(renewEvery: number): number {
  return slotGraceMs(renewEvery) + 2 * CLOCK_OFFSET_ALLOWANCE_MS;
}

/** cron's presets, as `cron` expands them; @annually and @midnight as other crons do. */
const PRESETS: ReadonlyMap<string, string> = new Map([
  ['@yearly', '0 0 0 1 1 *'],
  ['@annually', '0 0 0 1 1 *'],
  ['@monthly', '0 0 0 1 * *'],
  ['@weekly', '0 0 0 * * 0'],
  ['@daily', '0 0 0 * * *'],
  ['@midnight', '0 0 0 * * *'],
  ['@hourly', '0 0 * * * *'],
  ['@minutely', '0 * * * * *'],
  ['@secondly', '* * * * * *'],
  ['@weekdays', '0 0 0 * * 1-5'],
  ['@weekends', '0 0 0 * * 0,6'],
]);

/**
 * Whether an expression names fixed times of day rather than a pace of elapsed time, as Vixie
 * cron tells them apart: neither its minute nor its hour field has a `*` (a wildcard, or a step
 * of one). A preset counts as its expansion: @daily is fixed, @hourly is not.
 */
export function isFixedTime(expression: string): boolean {
  const text = expression.trim().toLowerCase();
  const fields = (PRESETS.get(text) ?? text).split(/\s+/);
  // Six fields start with the seconds, five with the minutes.
  const [minute = '', hour = ''] = fields.length >= 6 ? fields.slice(1) : fields;
  return !minute.includes('*') && !hour.includes('*');
}

/**
 * The slots of a cron expression (the `cron` package's syntax, which @nestjs/schedule uses: an
 * optional seconds field) in a time zone, as instants: each slot is one epoch millisecond, so that
 * a slot is the same for every node whatever its zone.
 *
 * The wall times come from CronCalendar, read as UTC; this class maps them onto instants with the
 * zone's offsets (Intl), never with `cron`'s zone arithmetic, which runs a daily job twice on some
 * daylight-saving days. Across a change, Vixie cron's rule:
 * - an expression of fixed times (isFixedTime) runs each wall time once: a time the clocks pass
 *   twice (they go back) at its first pass; a time they skip (they go forward) at the change's
 *   instant, one slot however many skipped times match;
 * - any other follows elapsed time: a time passed twice is two slots, a skipped time none.
 *
 * Each search works one stretch of constant offset at a time, and finds the next change by
 * probing the offset weekly, then halving: its cost grows with the changes crossed, not with the
 * slots.
 */
export class CronSchedule {
  /** The IANA zone the expression is read in: the option, else this node's, else UTC. */
  readonly zone: string;
  /**
   * The schedule as the nodes must all read it: the expression and the zone it is read in (the
   * option, else the node's own). Recorded with each claimed slot, so that nodes that disagree
   * hear of it.
   */
  get identity(): string {
    return `cron '${this.expression}' in ${this.zone}`;
  }
  /** Whether the expression names fixed times of day (isFixedTime). */
  readonly fixedTime: boolean;
  private readonly calendar: CronCalendar;
  private readonly wallClock: Intl.DateTimeFormat;

  /**
   * Throws when `cron` does not take the expression, when Intl does not know the zone, or when no
   * slot comes in eight years.
   */
  constructor(
    readonly expression: string,
    timeZone?: string,
  ) {
    this.calendar = new CronCalendar(expression);
    this.fixedTime = isFixedTime(expression);
    this.wallClock = wallClockIn(timeZone ?? nodeZone());
    this.zone = this.wallClock.resolvedOptions().timeZone;
    this.nextAfter(Date.now());
  }

  /** The first slot strictly after `ms`. */
  nextAfter(ms: number): number {
    // Slots are whole seconds.
    let from = Math.floor(ms / SECOND_MS) * SECOND_MS + SECOND_MS;
    const limit = from + CRON_HORIZON_MS;
    while (from <= limit) {
      // 1. The first wall time at or after `from`'s, at `from`'s offset.
      const offset = this.offsetAt(from);
      const wall = this.calendar.firstAtOrAfter(from + offset);
      if (wall === undefined) break;
      const candidate = wall - offset;
      const change = this.changeAfter(from, candidate, offset);
      if (change === undefined) {
        // 2. The offset holds until then: the slot, unless a fixed time comes a second time.
        const repeated = this.fixedTime ? this.repeatedWindow(candidate, offset) : undefined;
        if (!repeated) return candidate;
        from = repeated.end;
        continue;
      }
      // 3. The offset changes first. Clocks going forward skip the wall times
      //    [change + offset, change + after): a fixed one among them runs at the change.
      const after = this.offsetAt(change);
      if (after > offset && this.fixedTime && wall < change + after) return change;
      // 4. Go on from the change; clocks going back repeat [change + after, change + offset),
      //    which a fixed time jumps in one step.
      from = after < offset && this.fixedTime ? change + offset - after : change;
    }
    throw new Error(`no date matches "${this.expression}" within eight years`);
  }

  /** The latest slot at or before `ms`, or undefined when none came in the last eight years. */
  latestAtOrBefore(ms: number): number | undefined {
    let to = Math.floor(ms / SECOND_MS) * SECOND_MS;
    const limit = to - CRON_HORIZON_MS;
    while (to >= limit) {
      // 1. The latest wall time at or before `to`'s, at `to`'s offset.
      const offset = this.offsetAt(to);
      const wall = this.calendar.latestAtOrBefore(to + offset);
      if (wall === undefined) return undefined;
      const candidate = wall - offset;
      const change = this.changeBefore(candidate, to, offset);
      if (change === undefined) {
        // 2. The offset held since then: the slot, unless a fixed time came a second time (its
        //    slot is then before the change that repeated it).
        const repeated = this.fixedTime ? this.repeatedWindow(candidate, offset) : undefined;
        if (!repeated) return candidate;
        to = repeated.change - SECOND_MS;
        continue;
      }
      // 3. The offset changed since. Clocks going forward skipped the wall times
      //    [change + before, change + offset): a fixed one among them ran at the change.
      const before = this.offsetAt(change - SECOND_MS);
      if (before < offset && this.fixedTime && wall >= change + before) return change;
      // 4. Go on before the change.
      to = change - SECOND_MS;
    }
    return undefined;
  }

  /**
   * The slot a master claims at `nowMs` (on the store's clock), given `lastSlotMs`, the latest it
   * knows to be claimed or given up: the latest one due, if later. Slots missed while nobody led
   * collapse into it; the store decides whether it still runs.
   */
  dueSlot(nowMs: number, lastSlotMs: number | undefined): number | undefined {
    const latest = this.latestAtOrBefore(nowMs);
    return latest === undefined || (lastSlotMs !== undefined && latest <= lastSlotMs)
      ? undefined
      : latest;
  }

  /**
   * How long the store remembers a claimed slot, which is how long a missed slot can be caught
   * up: two periods, and at least a day.
   */
  keepMs(slotMs: number): number {
    return Math.max(2 * (this.nextAfter(slotMs) - slotMs), DAY_MS);
  }

  /**
   * When `instant`, at `offset`, lies in the stretch after clocks went back whose wall times came
   * once already: the change, and the end of that stretch.
   */
  private repeatedWindow(
    instant: number,
    offset: number,
  ): { change: number; end: number } | undefined {
    const before = this.offsetAt(instant - MAX_SHIFT_MS);
    if (before <= offset) return undefined;
    const back = before - offset;
    if (this.offsetAt(instant - back) !== before) return undefined;
    const change = this.changeBetween(instant - back, instant);
    return { change, end: change + back };
  }

  /** The first instant in (from, to] at which the offset is no longer `offset` (from's). */
  private changeAfter(from: number, to: number, offset: number): number | undefined {
    for (let lo = from; lo < to;) {
      const hi = Math.min(lo + CHANGE_SPACING_MS, to);
      if (this.offsetAt(hi) !== offset) return this.changeBetween(lo, hi);
      lo = hi;
    }
    return undefined;
  }

  /** The latest instant in (from, to] at which the offset became `offset` (to's). */
  private changeBefore(from: number, to: number, offset: number): number | undefined {
    for (let hi = to; hi > from;) {
      const lo = Math.max(hi - CHANGE_SPACING_MS, from);
      if (this.offsetAt(lo) !== offset) return this.changeBetween(lo, hi);
      hi = lo;
    }
    return undefined;
  }

  /**
   * The instant in (lo, hi] at which the offset changes, given that it differs at the two ends
   * (which are less than CHANGE_SPACING_MS apart: one change): halved down to the second, as
   * changes come on whole seconds.
   */
  private changeBetween(lo: number, hi: number): number {
    const offset = this.offsetAt(lo);
    let a = Math.floor(lo / SECOND_MS) * SECOND_MS;
    let b = Math.floor(hi / SECOND_MS) * SECOND_MS;
    while (b - a > SECOND_MS) {
      const mid = a + Math.floor((b - a) / (2 * SECOND_MS)) * SECOND_MS;
      if (this.offsetAt(mid) === offset) a = mid;
      else b = mid;
    }
    return b;
  }

  /** The local time at `ms`, to the second, written as if it were UTC. */
  private wallTime(ms: number): number {
    const parts: Record<string, number> = {};
    for (const { type, value } of this.wallClock.formatToParts(new Date(ms)))
      parts[type] = Number(value);
    const { year, month, day, hour, minute, second } = parts;
    return Date.UTC(year, month - 1, day, hour, minute, second);
  }

  /** The zone's offset from UTC at `ms`. */
  private offsetAt(ms: number): number {
    const whole = Math.floor(ms / SECOND_MS) * SECOND_MS;
    return this.wallTime(whole) - whole;
  }
}

/** The local time in `zone`, in parts; Intl throws a RangeError naming a zone it does not know. */
function wallClockIn(zone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

/** This node's zone, as Intl reads it (from TZ); UTC when it reads none (an unknown TZ). */
function nodeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone as string | undefined;
  if (!zone) return 'UTC';
  try {
    wallClockIn(zone);
    return zone;
  } catch {
    return 'UTC';
  }
}
