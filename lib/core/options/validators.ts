import { invalidOption } from '../kettle.messages.js';
import { MIN_LEASE_TTL_MS } from './defaults.js';

/** Node's timers hold at most 2^31 - 1 ms; longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new TypeError(invalidOption(option, value, 'a non-empty string'));
  return value;
}

/** A whole number of milliseconds from `min` to what a timer can hold. */
export function milliseconds(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw new TypeError(
      invalidOption(option, value, `a number of milliseconds from ${min} to ${MAX_TIMER_MS}`),
    );
  }
  return Math.round(value);
}

export function leaseTtl(option: string, value: unknown): number {
  const ms = milliseconds(option, value, 1);
  if (ms < MIN_LEASE_TTL_MS) {
    throw new TypeError(
      invalidOption(
        option,
        value,
        `at least ${MIN_LEASE_TTL_MS} ms, so that a renewal (every third of the lease) fits before it ends`,
      ),
    );
  }
  return ms;
}

export function boolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new TypeError(invalidOption(option, value, 'true or false'));
  return value;
}

export function oneOf<T extends string>(option: string, value: unknown, values: readonly T[]): T {
  if (!(values as readonly unknown[]).includes(value))
    throw new TypeError(invalidOption(option, value, values.map((v) => `'${v}'`).join(' or ')));
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
