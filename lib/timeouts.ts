/** A store command that did not answer in time: its outcome is unknown, never a success. */
export class KettleTimeoutError extends Error {
  override readonly name = 'KettleTimeoutError';
  constructor(action: string, ms: number) {
    super(`${action} got no answer within ${Math.round(ms)} ms`);
  }
}

/**
 * Rejects after `ms`. The command itself is not cancelled (Redis cannot), only no longer awaited.
 * `onTimeout` hears that it went unanswered (its connection may be silently dead); what it throws
 * is ignored, the command has failed anyway.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  action: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        reject(new KettleTimeoutError(action, ms));
        try {
          onTimeout?.();
        } catch {
          // Nothing to add to the timeout.
        }
      },
      Math.max(1, ms),
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Whether `promise` settles within `ms`; the timer never outlives the answer. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
