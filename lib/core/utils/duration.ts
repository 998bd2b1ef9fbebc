/**
 * A length of time: a number of milliseconds, or a string of one, bare or with a unit, as a
 * configuration service reads it from the environment (`'2000'`, `'500ms'`, `'30s'`, `'2m'`, `'1h'`).
 */
export type Duration =
  number | `${number}` | `${number}ms` | `${number}s` | `${number}m` | `${number}h`;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Digits, an optional fraction, an optional unit; no sign, exponent or inner space. */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/**
 * The milliseconds of `value`, or undefined when it is not a duration (a negative or non-finite
 * number, an empty string, `'2 minutes'`, `'-1s'`). Surrounding spaces are dropped, as an
 * environment file may leave them.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const unit = (match[2] ?? 'ms') as keyof typeof UNIT_MS;
  return Number(match[1]) * UNIT_MS[unit];
}

/** True when `value` gives its unit in words: `'500ms'`, `'30s'`, not `500` or `'500'`. */
export function hasUnit(value: unknown): boolean {
  return typeof value === 'string' && /[a-z]$/.test(value.trim());
}
