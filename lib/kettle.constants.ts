/** Injection token of the node's `Kettle` (nestjs-kettle/core), built from the module's options. */
export const KETTLE = Symbol('KETTLE');
/** Injection token of the election store (Redis, memory or the user's own). */
export const KETTLE_STORE = Symbol('KETTLE_STORE');
/** Metadata key that `@OnMaster` writes on a method. */
export const ON_MASTER_METADATA = 'kettle:on-master';
/** Metadata keys that `@OnElected` and `@OnRevoked` write on a method. */
export const ON_ELECTED_METADATA = 'kettle:on-elected';
export const ON_REVOKED_METADATA = 'kettle:on-revoked';

export const DEFAULT_KEY_PREFIX = 'kettle:';
/** The original kettle's tick. */
export const DEFAULT_INTERVAL_MS = 30_000;
/** Like client-go's LeaseDuration scale: a crash is noticed within about this long. */
export const DEFAULT_LEASE_TTL_MS = 10_000;
/** How long `app.close()` waits for running callbacks before it releases the lease anyway. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Shorter leases leave too little room for a renew round trip and timer jitter. */
export const MIN_LEASE_TTL_MS = 100;
export const DEFAULT_REDIS_PORT = 6379;
/** Renew latency percentiles cover this many of the latest lease extensions: bounded memory. */
export const RENEW_LATENCY_WINDOW = 100;
