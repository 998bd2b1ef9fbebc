/** The original kettle's tick. */
export const DEFAULT_INTERVAL_MS = 30_000;
/** Like client-go's LeaseDuration scale: a crash is noticed within about this long. */
export const DEFAULT_LEASE_TTL_MS = 10_000;
/** How long `app.close()` waits for running callbacks before it releases the lease anyway. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Shorter leases leave too little room for a renew round trip and timer jitter. */
export const MIN_LEASE_TTL_MS = 100;
/**
 * The shortest interval taken without `allowShortInterval`. A job that runs more than once a second
 * on one elected node is rare, while an interval written in seconds (`interval: 60`) is a common
 * slip that would run every 60 ms: below this floor, the user says so.
 */
export const MIN_INTERVAL_MS = 1000;
/** How long `failFast: true` gives the store to answer at bootstrap. */
export const DEFAULT_FAIL_FAST_TIMEOUT_MS = 5_000;
/** How long `getMaster()` waits for the store unless told otherwise. */
export const DEFAULT_READ_TIMEOUT_MS = 1_000;
