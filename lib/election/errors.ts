import type { StepDownReason } from '../interfaces/leadership-change.interface.js';

/** The reason an aborted MasterContext.signal carries. */
export class LeadershipEndedError extends Error {
  override readonly name = 'LeadershipEndedError';
  constructor(readonly reason: StepDownReason) {
    super(`leadership ended: ${reason}`);
  }
}

/** Never throws: String() does on a thrown object without a prototype or a usable toString. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

export function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
