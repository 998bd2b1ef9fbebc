import type { StepDownReason } from './interfaces/leadership-change.interface.js';

/** The reason an aborted MasterContext.signal carries. */
export class LeadershipEndedError extends Error {
  override readonly name = 'LeadershipEndedError';
  constructor(readonly reason: StepDownReason) {
    super(`leadership ended: ${reason}`);
  }
}
