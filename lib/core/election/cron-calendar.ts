import { CronTime } from 'cron';

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
/** As far as `cron` looks for a date: an expression with no date within it never fires. */
export const CRON_HORIZON_MS = 8 * 366 * DAY_MS;

/** The sets `CronTime` parses an expression into (its fields, which its typings keep private). */
interface ParsedFields {
  second: Record<number, boolean>;
  minute: Record<number, boolean>;
  hour: Record<number, boolean>;
  dayOfMonth: Record<number, boolean>;
  month: Record<number, boolean>;
  dayOfWeek: Record<number, boolean>;
}

/**
 * The wall times a cron expression names, as if the wall clock were UTC: no zone and no daylight
 * saving, which CronSchedule maps onto instants itself. `cron`'s CronTime parses the expression
 * (its syntax, presets, aliases and errors); the fields are matched here, as its getNextDateFrom
 * matches them in UTC, because that walks a second at a time through luxon (up to 0.4 ms a call)
 * and has no way back.
 */
export class CronCalendar {
  private readonly seconds: readonly number[];
  private readonly minutes: readonly number[];
  private readonly hours: readonly number[];
  private readonly months: ReadonlySet<number>;
  private readonly monthDays: ReadonlySet<number>;
  private readonly weekDays: ReadonlySet<number>;

  /** Throws `cron`'s error when it does not take the expression. */
  constructor(expression: string) {
    const fields = new CronTime(expression, 'UTC') as unknown as ParsedFields;
    const values = (field: Record<number, boolean>) =>
      Object.keys(field)
        .map(Number)
        .sort((a, b) => a - b);
    this.seconds = values(fields.second);
    this.minutes = values(fields.minute);
    this.hours = values(fields.hour);
    this.months = new Set(values(fields.month));
    // cron reads a field that lists every day as no restriction (then only the other one counts).
    const monthDays = values(fields.dayOfMonth);
    const weekDays = values(fields.dayOfWeek);
    this.monthDays = new Set(monthDays.length === 31 ? [] : monthDays);
    this.weekDays = new Set(weekDays.length === 7 ? [] : weekDays);
  }

  /** The first wall time at or after `wall` (to the second), or undefined past cron's horizon. */
  firstAtOrAfter(wall: number): number | undefined {
    let t = Math.ceil(wall / SECOND_MS) * SECOND_MS;
    const limit = t + CRON_HORIZON_MS;
    while (t <= limit) {
      const d = new Date(t);
      const [y, mo, day, h, mi, s] = utcFields(d);
      // Each step moves to the start of the next month, day, hour or minute that may match.
      if (!this.months.has(mo + 1)) t = Date.UTC(y, mo + 1, 1);
      else if (!this.dayMatches(d)) t = Date.UTC(y, mo, day + 1);
      else {
        const hh = atOrAfter(this.hours, h);
        if (hh === undefined) t = Date.UTC(y, mo, day + 1);
        else if (hh > h) t = Date.UTC(y, mo, day, hh);
        else {
          const mm = atOrAfter(this.minutes, mi);
          if (mm === undefined) t = Date.UTC(y, mo, day, h + 1);
          else if (mm > mi) t = Date.UTC(y, mo, day, h, mm);
          else {
            const ss = atOrAfter(this.seconds, s);
            if (ss !== undefined) return Date.UTC(y, mo, day, h, mi, ss);
            t = Date.UTC(y, mo, day, h, mi + 1);
          }
        }
      }
    }
    return undefined;
  }

  /** The latest wall time at or before `wall` (to the second), or undefined past cron's horizon. */
  latestAtOrBefore(wall: number): number | undefined {
    let t = Math.floor(wall / SECOND_MS) * SECOND_MS;
    const limit = t - CRON_HORIZON_MS;
    while (t >= limit) {
      const d = new Date(t);
      const [y, mo, day, h, mi, s] = utcFields(d);
      // Each step moves to the last second of the previous month, day, hour or minute that may match.
      if (!this.months.has(mo + 1)) t = Date.UTC(y, mo, 1) - SECOND_MS;
      else if (!this.dayMatches(d)) t = Date.UTC(y, mo, day) - SECOND_MS;
      else {
        const hh = atOrBefore(this.hours, h);
        if (hh === undefined) t = Date.UTC(y, mo, day) - SECOND_MS;
        else if (hh < h) t = Date.UTC(y, mo, day, hh + 1) - SECOND_MS;
        else {
          const mm = atOrBefore(this.minutes, mi);
          if (mm === undefined) t = Date.UTC(y, mo, day, h) - SECOND_MS;
          else if (mm < mi) t = Date.UTC(y, mo, day, h, mm + 1) - SECOND_MS;
          else {
            const ss = atOrBefore(this.seconds, s);
            if (ss !== undefined) return Date.UTC(y, mo, day, h, mi, ss);
            t = Date.UTC(y, mo, day, h, mi) - SECOND_MS;
          }
        }
      }
    }
    return undefined;
  }

  /**
   * cron's day rule: when both the day of the month and the day of the week are restricted, either
   * may match; when one is, it must.
   */
  private dayMatches(d: Date): boolean {
    const monthDay = this.monthDays.has(d.getUTCDate());
    const weekDay = this.weekDays.has(d.getUTCDay());
    if (this.monthDays.size === 0) return this.weekDays.size === 0 || weekDay;
    if (this.weekDays.size === 0) return monthDay;
    return monthDay || weekDay;
  }
}

function atOrAfter(sorted: readonly number[], value: number): number | undefined {
  return sorted.find((v) => v >= value);
}

function atOrBefore(sorted: readonly number[], value: number): number | undefined {
  for (let i = sorted.length - 1; i >= 0; i--) if (sorted[i] <= value) return sorted[i];
  return undefined;
}

/** Year, month (0-11), day, hour, minute and second of `d`, read as UTC. */
function utcFields(d: Date): [number, number, number, number, number, number] {
  return [
    d.getUTCFullYear(),
    d.getUTCMonth(),
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
}
