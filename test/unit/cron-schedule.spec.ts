import { CronTime } from 'cron';
import { describe, expect, it } from 'vitest';
import { CronCalendar } from '../../lib/core/election/cron-calendar.js';
import { StoreClock } from '../../lib/core/election/store-clock.js';
import { systemClock } from '../../lib/core/utils/clock.js';
import {
  CLOCK_OFFSET_ALLOWANCE_MS,
  CronSchedule,
  isFixedTime,
} from '../../lib/core/election/schedule.js';

const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);

/** A local clock read with Intl, apart from the code under test. */
function localClock(zone: string) {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  /** The local time at `ms`, written as if it were UTC. */
  return (ms: number): number => {
    const p: Record<string, number> = {};
    for (const { type, value } of format.formatToParts(new Date(ms))) p[type] = Number(value);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  };
}

/**
 * Whether a six-field expression (numbers, lists, ranges, `*` and steps; the day of the month or
 * of the week restricted, not both) names a wall time written as UTC.
 */
function matcher(expression: string): (wall: number) => boolean {
  const fields = expression.split(' ').map(
    (field) => (value: number) =>
      field.split(',').some((part) => {
        const [range, step] = part.split('/');
        const [low, high] =
          range === '*'
            ? [0, 99]
            : range.includes('-')
              ? range.split('-').map(Number)
              : [Number(range), step ? 99 : Number(range)];
        return value >= low && value <= high && (value - low) % Number(step ?? 1) === 0;
      }),
  );
  return (wall) => {
    const d = new Date(wall);
    return [
      d.getUTCSeconds(),
      d.getUTCMinutes(),
      d.getUTCHours(),
      d.getUTCDate(),
      d.getUTCMonth() + 1,
      d.getUTCDay(),
    ].every((value, i) => fields[i](value));
  };
}

/**
 * The slots in [from, to], from the rule itself, looking at every `step` instant's local time: a
 * fixed-time expression runs a local time at its first pass, and at the change when the clocks
 * skip it (the zones here change on whole minutes); any other at every instant it names.
 */
function oracle(zone: string, expression: string, from: number, to: number, step: number) {
  const local = localClock(zone);
  const matches = matcher(expression);
  const fixed = isFixedTime(expression);
  const seen = new Set<number>();
  const slots: number[] = [];
  let previous: number | undefined;
  for (let t = from; t <= to; t += step) {
    const wall = local(t);
    let skipped = false;
    for (let w = (previous ?? wall) + step; w < wall; w += step) skipped ||= matches(w);
    if (fixed ? (matches(wall) && !seen.has(wall)) || skipped : matches(wall)) slots.push(t);
    seen.add(wall);
    previous = wall;
  }
  return slots;
}

/** Changes of offset (the instant the clocks change) and daily times in each changed hour. */
const ZONES: { zone: string; changes: string[]; daily: string[] }[] = [
  {
    zone: 'Europe/Paris',
    changes: ['2025-03-30T01:00Z', '2025-10-26T01:00Z'],
    daily: ['0 30 2 * * *', '0 0,30 2 * * *'],
  },
  {
    zone: 'Europe/London',
    changes: ['2025-03-30T01:00Z', '2025-10-26T01:00Z'],
    daily: ['0 30 1 * * *'],
  },
  {
    zone: 'America/New_York',
    changes: ['2025-03-09T07:00Z', '2025-11-02T06:00Z'],
    daily: ['0 30 2 * * *', '0 30 1 * * *'],
  },
  {
    // Midnight is skipped in November.
    zone: 'America/Sao_Paulo',
    changes: ['2018-02-18T02:00Z', '2018-11-04T03:00Z'],
    daily: ['0 30 23 * * *', '0 30 0 * * *', '0 0 0 * * *'],
  },
  {
    // Half-hour changes.
    zone: 'Australia/Lord_Howe',
    changes: ['2025-04-05T15:00Z', '2025-10-04T15:30Z'],
    daily: ['0 45 1 * * *', '0 15 2 * * *'],
  },
  {
    zone: 'Pacific/Chatham',
    changes: ['2025-04-05T14:00Z', '2025-09-27T14:00Z'],
    daily: ['0 0 3 * * *', '0 30 3 * * *'],
  },
  {
    zone: 'Asia/Tehran',
    changes: ['2021-03-21T20:30Z', '2021-09-21T19:30Z'],
    daily: ['0 30 0 * * *', '0 30 23 * * *'],
  },
  {
    // Back for Ramadan, forward after it.
    zone: 'Africa/Casablanca',
    changes: ['2019-05-05T02:00Z', '2019-06-09T02:00Z'],
    daily: ['0 30 2 * * *'],
  },
  { zone: 'UTC', changes: ['2025-03-30T01:00Z'], daily: ['0 30 2 * * *'] },
];
const EVERY_MINUTE_EXPRESSIONS = [
  '0 */15 * * * *',
  '0 0 * * * *',
  '0 30 1 * * 0',
  '0 0 2 * * *',
  '0 0 0 1 * *',
];
const EVERY_SECOND_EXPRESSIONS = ['*/20 * * * * *', '*/20 30 2 * * *'];

/** The slots from nextAfter, chained from just before `from` to `to`. */
function chain(schedule: CronSchedule, from: number, to: number): number[] {
  const slots: number[] = [];
  for (let slot = schedule.nextAfter(from - 1); slot <= to; slot = schedule.nextAfter(slot))
    slots.push(slot);
  return slots;
}

/** Each instant where latestAtOrBefore disagrees with the expected slots, described. */
function latestMismatches(
  schedule: CronSchedule,
  expected: number[],
  from: number,
  probes: number[],
) {
  const wrong: string[] = [];
  for (const x of probes) {
    const latest = schedule.latestAtOrBefore(x);
    const want = expected.filter((slot) => slot <= x).pop();
    // Before the first expected slot, the latest one lies before the window.
    const right = want === undefined ? latest === undefined || latest < from : latest === want;
    if (!right && wrong.length < 5)
      wrong.push(`${new Date(x).toISOString()}: ${latest} instead of ${want}`);
  }
  return wrong;
}

describe('CronSchedule across daylight-saving changes, against an oracle', () => {
  for (const { zone, changes, daily } of ZONES) {
    for (const change of changes.map(at)) {
      const offset = (ms: number) => localClock(zone)(ms) - ms;
      const cases = [
        ...[...daily, ...EVERY_MINUTE_EXPRESSIONS].map((expression) => ({
          expression,
          from: change - 2 * DAY,
          to: change + 2 * DAY,
          step: MINUTE,
        })),
        ...EVERY_SECOND_EXPRESSIONS.map((expression) => ({
          expression,
          from: change - 45 * MINUTE,
          to: change + 45 * MINUTE,
          step: SECOND,
        })),
      ];
      for (const { expression, from, to, step } of cases) {
        it(`${zone} around ${new Date(change).toISOString()}: '${expression}'`, () => {
          if (zone !== 'UTC') expect(offset(change - SECOND)).not.toBe(offset(change));
          const schedule = new CronSchedule(expression, zone);
          const expected = oracle(zone, expression, from, to, step);
          const slots = chain(schedule, from, to);
          expect(slots.map((ms) => new Date(ms).toISOString())).toEqual(
            expected.map((ms) => new Date(ms).toISOString()),
          );
          // Probes: around every slot, every few steps through the hours about the change, and
          // across the window.
          const probes = expected.flatMap((slot) => [slot - SECOND, slot - 1, slot, slot + 1]);
          for (
            let x = Math.max(from, change - 3 * HOUR);
            x <= Math.min(to, change + 3 * HOUR);
            x += 7 * step
          )
            probes.push(x);
          for (let x = from; x <= to; x += 37 * step + 1) probes.push(x);
          expect(latestMismatches(schedule, expected, from, probes)).toEqual([]);
        });
      }
      for (const expression of daily.filter((e) => !e.includes(','))) {
        it(`${zone} around ${new Date(change).toISOString()}: '${expression}' once a local day`, () => {
          const schedule = new CronSchedule(expression, zone);
          const days = chain(schedule, change - 3 * DAY, change + 3 * DAY).map((slot) =>
            new Date(localClock(zone)(slot)).toISOString().slice(0, 10),
          );
          const first = at(days[0]);
          expect(days).toEqual(
            days.map((_, i) => new Date(first + i * DAY).toISOString().slice(0, 10)),
          );
          expect(days.length).toBeGreaterThanOrEqual(5);
        });
      }
    }
  }
});

describe('isFixedTime (Vixie cron): no * in the minute or the hour field', () => {
  it.each([
    ['0 30 2 * * *', true],
    ['30 2 * * *', true],
    ['*/20 30 2 * * *', true],
    ['0 0,30 1-3 * * 0', true],
    ['@daily', true],
    ['@weekly', true],
    ['@monthly', true],
    ['@yearly', true],
    ['@annually', true],
    ['@midnight', true],
    ['@WEEKDAYS', true],
    ['0 */15 * * * *', false],
    ['0 0 * * * *', false],
    ['0 * 2 * * *', false],
    ['*/5 2 * * *', false],
    ['0 */2 * * *', false],
    ['@hourly', false],
    ['@minutely', false],
    ['@secondly', false],
  ])('%s: %s', (expression, fixed) => {
    expect(isFixedTime(expression)).toBe(fixed);
  });
});

describe('CronCalendar: the wall times cron names, read as UTC', () => {
  const expressions = [
    '0 30 2 * * *',
    '*/7 */13 * * * *',
    '0 0 0 29 2 *',
    '0 0 12 13 * 5',
    '0 0 0 * * 7',
    '0 0 0 31 * *',
    '15 10 9 * 1-3 1-5',
    '0-58 * * * * *',
    '0 0 0 * * 0-5',
    '@weekly',
    '*/10 * * * *',
  ];
  // A fixed sequence of instants in 2020-2030, some on whole seconds.
  let seed = 42;
  const instants = Array.from({ length: 60 }, (_, i) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const ms = at('2020-01-01T00:00Z') + (seed / 2 ** 31) * 10 * 365 * DAY;
    return i % 2 ? Math.floor(ms / SECOND) * SECOND : Math.floor(ms);
  });

  it.each(expressions)('%s: the next one as cron has it in UTC, and the latest', (expression) => {
    const calendar = new CronCalendar(expression);
    const cron = new CronTime(expression, 'UTC');
    for (const t of instants) {
      const next = cron.getNextDateFrom(new Date(t), 'UTC').toMillis();
      expect(calendar.firstAtOrAfter(t + 1)).toBe(next);
      const latest = calendar.latestAtOrBefore(t)!;
      expect(latest).toBeLessThanOrEqual(t);
      expect(calendar.firstAtOrAfter(latest)).toBe(latest);
      expect(calendar.firstAtOrAfter(latest + 1)).toBeGreaterThan(t);
    }
  });

  it('finds none for a date that never comes', () => {
    expect(() => new CronCalendar('0 0 0 30 2 *').firstAtOrAfter(0)).not.toThrow();
    expect(new CronCalendar('0 0 0 30 2 *').firstAtOrAfter(0)).toBeUndefined();
    expect(new CronCalendar('0 0 0 30 2 *').latestAtOrBefore(0)).toBeUndefined();
  });
});

describe('CronSchedule', () => {
  it('claims the latest slot due, however many were missed, and none already claimed', () => {
    const schedule = new CronSchedule('0 0 * * * *', 'Europe/Paris');
    const now = at('2025-10-26T05:30:00Z');
    expect(schedule.dueSlot(now, at('2025-10-26T00:00:00Z'))).toBe(at('2025-10-26T05:00:00Z'));
    expect(schedule.dueSlot(now, undefined)).toBe(at('2025-10-26T05:00:00Z'));
    expect(schedule.dueSlot(now, at('2025-10-26T05:00:00Z'))).toBeUndefined();
    // Every second: a minute missed collapses into one slot, the latest.
    const everySecond = new CronSchedule('* * * * * *', 'UTC');
    expect(everySecond.dueSlot(now + 400, at('2025-10-26T05:29:00Z'))).toBe(now);
  });

  it("reads slots on the store's clock once an answer measured it, whatever the node's says", () => {
    const schedule = new CronSchedule('* * * * * *', 'UTC');
    const storeNow = at('2025-10-26T05:30:00.250Z');
    for (const offset of [0, 700, CLOCK_OFFSET_ALLOWANCE_MS, 3_600_000, -1500]) {
      let monotonic = 1000;
      let wall = storeNow + offset;
      const store = new StoreClock({ ...systemClock, now: () => monotonic, wallNow: () => wall });
      // Before any answer: the node's own clock.
      expect(store.now()).toBe(wall);
      // A claim sent now, answered 4 ms later, the store reading its clock halfway.
      store.observe(monotonic, monotonic + 4, storeNow + 2);
      monotonic += 4;
      wall += 4;
      expect(store.offsetMs()).toBe(offset);
      expect(schedule.dueSlot(store.now(), undefined)).toBe(at('2025-10-26T05:30:00Z'));
      // The wall clock is stepped (NTP): the store's clock goes on with the monotonic one.
      wall = storeNow;
      monotonic += 1000;
      expect(store.now()).toBe(storeNow + 1004);
      expect(schedule.dueSlot(store.now(), undefined)).toBe(at('2025-10-26T05:30:01Z'));
      // A store that does not tell its clock changes nothing.
      store.observe(monotonic, monotonic, undefined);
      expect(store.now()).toBe(storeNow + 1004);
    }
  });

  it('reads the expression in the zone given, as Intl names it', () => {
    expect(new CronSchedule('0 0 2 * * *', 'europe/paris').zone).toBe('Europe/Paris');
    expect(() => new CronSchedule('0 0 2 * * *', 'Europe/Pariss')).toThrow(
      /time zone.*Europe\/Pariss/i,
    );
  });

  it("reads it in the node's zone without one, and in UTC when the node has none", () => {
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Tehran';
      expect(new CronSchedule('0 0 2 * * *').zone).toBe('Asia/Tehran');
      // Intl names no zone for a TZ it does not know.
      process.env.TZ = 'Nowhere/Atlantis';
      expect(new CronSchedule('0 0 2 * * *').zone).toBe('UTC');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});
