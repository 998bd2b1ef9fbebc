import { CronTime } from 'cron';

/** What a new master does with the slots that fell due while nobody led. */
export type CatchUp = 'none' | 'latest';

export const CATCH_UP_VALUES: readonly CatchUp[] = ['none', 'latest'];

/** The default: a daily job whose master crashed just before its slot still runs that day. */
export const DEFAULT_CATCH_UP: CatchUp = 'latest';

/** How far the nodes' clocks may disagree with the store's, either way, without a double or lost run. */
export const CLOCK_OFFSET_ALLOWANCE_MS = 2000;

const SECOND_MS = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** cron looks this far ahead for a date; a slot is looked for as far back. */
const LOOKBACK_MS = 8 * 366 * DAY_MS;
/** How many slots latestAtOrBefore walks one by one before it halves the rest. */
const CHAIN_LIMIT = 4;

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

/**
 * The slots of a cron expression (the `cron` package's syntax, which @nestjs/schedule uses: an
 * optional seconds field) in a time zone, as instants: each slot is one epoch millisecond, so that
 * a slot is the same for every node whatever its zone, and a local time repeated at a
 * daylight-saving change is one slot (the first), while a skipped one is the change's instant.
 */
export class CronSchedule {
  private readonly time: CronTime;
  /** The IANA zone the expression is read in: the option, else this node's. */
  readonly zone: string;
  private readonly wallClock: Intl.DateTimeFormat;

  /** Throws when the expression or the zone is not one `cron` takes, or no slot ever comes. */
  constructor(
    readonly expression: string,
    timeZone?: string,
  ) {
    this.time = new CronTime(expression, timeZone);
    this.zone = timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.wallClock = new Intl.DateTimeFormat('en-US', {
      timeZone: this.zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    this.nextAfter(Date.now());
  }

  /** The first slot strictly after `ms`. */
  nextAfter(ms: number): number {
    let from = this.firstPassOf(ms);
    for (;;) {
      const next = this.time.getNextDateFrom(new Date(from), this.zone).toMillis();
      if (next > ms) return next;
      from = next;
    }
  }

  /** The latest slot at or before `ms`, or undefined when none came in the last eight years. */
  latestAtOrBefore(ms: number): number | undefined {
    // Look back one period (as the slots after `ms` are spaced), and twice as far while no slot
    // lies in (ms - step, ms].
    const next = this.nextAfter(ms);
    let step = Math.max(SECOND_MS, this.nextAfter(next) - next);
    let slot = this.nextAfter(ms - step);
    while (slot > ms) {
      if (step > LOOKBACK_MS) return undefined;
      step *= 2;
      slot = this.nextAfter(ms - step);
    }
    // Usually a slot or two: walk them.
    for (let i = 0; i < CHAIN_LIMIT; i++) {
      const after = this.nextAfter(slot);
      if (after > ms) return slot;
      slot = after;
    }
    // Many (a dense schedule after a quiet spell): halve (lo, hi], which holds the latest slot
    // while none lies in (hi, ms], down to a second (slots are whole seconds).
    let lo = slot;
    let hi = ms;
    while (hi - lo > SECOND_MS) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.nextAfter(mid) <= ms) lo = mid;
      else hi = mid;
    }
    return this.nextAfter(lo);
  }

  /**
   * The slot a master claims at `nowMs`, given `lastSlotMs`, the latest it knows to be claimed or
   * given up: the earliest one after it that fell due within `recentMs` (slots run in order, none
   * skipped while a master keeps up, or takes over soon); else the latest one due, if after it (a
   * missed slot: the store decides whether it is caught up).
   */
  dueSlot(nowMs: number, lastSlotMs: number | undefined, recentMs: number): number | undefined {
    const after = Math.max(lastSlotMs ?? -Infinity, nowMs - recentMs);
    const recent = this.nextAfter(after);
    if (recent <= nowMs) return recent;
    // Nothing due since the last slot: the usual tick, spared the search below.
    if (after === lastSlotMs) return undefined;
    const latest = this.latestAtOrBefore(nowMs);
    return latest !== undefined && (lastSlotMs === undefined || latest > lastSlotMs)
      ? latest
      : undefined;
  }

  /**
   * How long the store remembers a claimed slot, which is how long a missed slot can be caught
   * up: two periods, and at least a day.
   */
  keepMs(slotMs: number): number {
    return Math.max(2 * (this.nextAfter(slotMs) - slotMs), DAY_MS);
  }

  /**
   * `cron`, asked for the next date from inside the second pass of a local hour repeated when
   * clocks go back, answers with that pass's date, which it skips when asked from before the
   * hour: a daily 02:30 would have two slots that day. Such an instant is read as its first-pass
   * twin (the same local time an offset change earlier), so that every start gives one sequence.
   */
  private firstPassOf(ms: number): number {
    const back = this.offsetAt(ms - 3 * HOUR_MS) - this.offsetAt(ms);
    if (back <= 0) return ms;
    return this.wallTime(ms - back) === this.wallTime(ms) ? ms - back : ms;
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
