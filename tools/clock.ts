/**
 * Milliseconds on CLOCK_MONOTONIC, which every process of one boot shares: readings from
 * different processes compare exactly, and no wall-clock change moves them. They say nothing
 * about the time of day.
 */
export function monotonicNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Milliseconds since the epoch, counted on this process's monotonic clock from its start
 * (`performance.timeOrigin`): comparable with wall-clock instants such as cron slots, and never
 * stepping back when NTP adjusts the wall clock during a run. Processes read the wall clock once
 * each, at their start, so their readings compare to well under a millisecond unless the wall
 * clock stepped between two starts.
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
