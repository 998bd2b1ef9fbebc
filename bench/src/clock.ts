/**
 * Milliseconds since the epoch, from this process's monotonic clock anchored at its start
 * (`performance.timeOrigin`). Nodes and the driver run on one machine, so their readings are
 * comparable to well under a millisecond; unlike Date.now(), a reading never steps back when NTP
 * adjusts the wall clock during a run.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
