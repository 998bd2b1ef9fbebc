import type { ElectionCounters } from '../interfaces/election-stats.interface.js';

/** Every counter of an election at zero, as a new election starts. */
export function zeroCounters(): ElectionCounters {
  return {
    elected: 0,
    revoked: 0,
    runs: 0,
    failedRuns: 0,
    skippedTicks: 0,
    followerSkips: 0,
    repeatedSlots: 0,
    lateSlots: 0,
    storeErrors: 0,
    takeovers: 0,
    callbackErrors: 0,
  };
}
