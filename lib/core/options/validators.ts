import { invalidOption, intervalTooShort } from '../kettle.messages.js';
import { hasUnit, parseDuration } from '../utils/duration.js';
import { MIN_INTERVAL_MS, MIN_LEASE_TTL_MS } from './defaults.js';

/** Node's timers hold at most 2^31 - 1 ms; longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** `where` in each: whose option it is, e.g. `join("report"): ` (see invalidOption). */

export function nonEmptyString(option: string, value: unknown, where = ''): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new TypeError(invalidOption(option, value, 'a non-empty string', { where }));
  return value;
}

/**
 * A whole number of milliseconds from `min` to what a timer can hold, given as a Duration: a
 * number of ms, or a string such as `'2000'`, `'500ms'`, `'30s'`, `'2m'`, `'1h'`.
 */
export function duration(option: string, value: unknown, min: number, where = ''): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < min || ms > MAX_TIMER_MS) {
    throw new TypeError(
      invalidOption(
        option,
        value,
        `a duration from ${min} ms to ${MAX_TIMER_MS} ms: a number of milliseconds, or a string such as '500ms', '30s', '2m' or '1h'`,
        { where },
      ),
    );
  }
  return Math.round(ms);
}

/** The period of an interval job: at least MIN_INTERVAL_MS, unless `allowShort`. */
export function jobInterval(
  option: string,
  value: unknown,
  allowShort: boolean,
  where = '',
): number {
  const ms = duration(option, value, 1, where);
  if (!allowShort && ms < MIN_INTERVAL_MS) {
    // `60` may be seconds; `'60ms'` or `1.5` is meant as written.
    const mayBeSeconds = !hasUnit(value) && Number.isInteger(parseDuration(value));
    throw new TypeError(intervalTooShort(option, value, ms, MIN_INTERVAL_MS, mayBeSeconds, where));
  }
  return ms;
}

export function leaseTtl(option: string, value: unknown, where = ''): number {
  const ms = duration(option, value, 1, where);
  if (ms < MIN_LEASE_TTL_MS) {
    throw new TypeError(
      invalidOption(
        option,
        value,
        `at least ${MIN_LEASE_TTL_MS} ms, so that a renewal (every third of the lease) fits before it ends`,
        { where },
      ),
    );
  }
  return ms;
}

/** A boolean, or the text of one: ConfigService hands environment values over as strings. */
export function boolean(option: string, value: unknown, where = ''): boolean {
  if (value === 'true' || value === 'false') return value === 'true';
  if (typeof value !== 'boolean')
    throw new TypeError(invalidOption(option, value, 'true or false', { where }));
  return value;
}

export function oneOf<T extends string>(
  option: string,
  value: unknown,
  values: readonly T[],
  where = '',
): T {
  if (!(values as readonly unknown[]).includes(value))
    throw new TypeError(
      invalidOption(option, value, values.map((v) => `'${v}'`).join(' or '), { where }),
    );
  return value as T;
}

/** An object with every one of `methods` as a function: duck-typed, as the app's copy may differ. */
export function hasMethods<M extends string>(
  value: unknown,
  methods: readonly M[],
): value is Record<M, (...args: never[]) => unknown> {
  const candidate = value as Partial<Record<M, unknown>> | null;
  return (
    !!candidate &&
    typeof candidate === 'object' &&
    methods.every((m) => typeof candidate[m] === 'function')
  );
}
