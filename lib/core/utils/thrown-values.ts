/** Values user code throws or rejects with: any value, including ones that throw when read. */

/**
 * Never throws: String() does on a thrown object without a prototype or a usable toString, and
 * `instanceof` on a revoked Proxy.
 */
export function describeError(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    // Described below.
  }
  try {
    return Object.prototype.toString.call(error);
  } catch {
    return 'a value that cannot be described';
  }
}

export function stackOf(error: unknown): string | undefined {
  try {
    return error instanceof Error ? error.stack : undefined;
  } catch {
    return undefined;
  }
}

/** A promise, or any object or function with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * When `value` is a promise (or any thenable), `onRejected` hears its rejection, which would
 * otherwise be unhandled: user code typed to return void may still be async.
 */
export function catchRejection(value: unknown, onRejected: (error: unknown) => void): void {
  try {
    const then = (value as { then?: unknown } | null | undefined)?.then;
    if (typeof then === 'function') then.call(value, undefined, onRejected);
  } catch (error) {
    onRejected(error);
  }
}
