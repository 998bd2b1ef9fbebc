import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { KettleStore } from '../store/kettle-store.interface.js';
import type { Duration } from '../utils/duration.js';

export interface KettleOptions {
  /**
   * A `redis://` or `rediss://` URL, ioredis options, or a client you already have. kettle opens
   * its own connections with the same settings (lock commands must not sit in an offline queue)
   * and never quits your client. When absent: `REDIS_URL`, else `REDIS_HOST` (`host:port`) with
   * `REDIS_PASSWORD` and `REDIS_TIMEOUT_SECONDS`, else `127.0.0.1:6379`.
   *
   * An array of three or more independent servers (each a URL, ioredis options or a client) makes
   * a quorum: a lease is held only with a majority of them, so one in three may be down.
   */
  redis?: string | RedisOptions | Redis | Cluster | ReadonlyArray<string | RedisOptions | Redis>;
  /** Prefix of every key and channel. Nodes contend when they share it and an election name. Default `kettle:`. */
  keyPrefix?: string;
  /** This node's id, as other nodes see it. Default: hostname, pid and a random suffix. */
  nodeId?: string;
  /**
   * Time between runs of the master's jobs: ms, or a string such as `'30s'` (see Duration).
   * Default 30000, at least 1000 unless `allowShortInterval`.
   */
  interval?: Duration;
  /**
   * Allows an `interval` under 1000 ms, here and in every election that does not set its own.
   * Default false: an interval in seconds (`interval: 60`) would otherwise run every 60 ms.
   */
  allowShortInterval?: boolean;
  /**
   * How long a lease lasts without renewal: how long a crashed master blocks the others (ms, or
   * a string such as `'10s'`). The master renews every third of it; followers retry on the same
   * period. Default 10000, at least 100.
   */
  leaseTtl?: Duration;
  /** How long `app.close()` waits for running jobs before it releases the lease. Default 10000 (ms). */
  shutdownTimeout?: Duration;
  /** Log every leadership change at log level (otherwise at debug). Default false. */
  verbose?: boolean;
  /**
   * `redis` (default); `memory`: one process only, for local development and unit tests; or your
   * own KettleStore for another backend.
   */
  store?: 'redis' | 'memory' | KettleStore;
  /**
   * Where kettle logs. Default: Nest's `Logger` with the context `Kettle` in KettleModule, the
   * console (without debug lines) in `nestjs-kettle/core`.
   */
  logger?: KettleLogger;
  /**
   * Bootstrap waits for the store and fails, with a KettleStoreError that says why (a wrong
   * password, a host that does not resolve, a closed port), when it cannot be reached within
   * `timeoutMs` (default 5000; ms, or a string such as `'5s'`); a cause of the configuration fails
   * it at once. `true` is `{ timeoutMs: 5000 }`. Default false: the app boots and kettle keeps retrying.
   */
  failFast?: boolean | { timeoutMs?: Duration };
  /**
   * Spreads leadership over the live nodes: among the nodes that take part in the same balanced
   * elections, each leads E / N of them, give or take one, once the fleet is stable; one that
   * leads more hands the surplus over by releasing it. An election opts out with its own
   * `balance: false`. Default false: the first node up leads every election. See docs/BALANCE.md.
   */
  balance?: boolean;
  /**
   * How a crashed master is noticed. `'connection'`: when its process dies, Redis drops its
   * connections at once, and a follower that polls every twentieth of the lease takes the lease
   * over (a kill or a crash is followed within about that, not a lease); a frozen or cut-off
   * master still keeps it until its lease runs out. A dropped connection of a live master then
   * costs it its leadership too. Falls back to the lease, logged at start, where the signal is not
   * there (Redis Cluster, a proxy that hides subscriptions, an ACL that refuses the channel, a
   * quorum). Default `'lease'`. See docs/CRASH-DETECTION.md.
   */
  crashDetection?: 'connection' | 'lease';
}

/** What kettle logs to: Nest's `Logger` fits, and so do most others. */
export interface KettleLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, stack?: string): void;
  debug(message: string): void;
}

/** Per-election settings of `@OnMaster` and `KettleService.join`; they override the module's. */
export interface ElectionOptions {
  /** Time between runs of the master's jobs (ms, or a string such as `'30s'`). Not with `cron`. */
  interval?: Duration;
  /** Allows an `interval` under 1000 ms for this election. Default: the module's. */
  allowShortInterval?: boolean;
  /** How long a lease lasts without renewal (ms, or a string such as `'10s'`). */
  leaseTtl?: Duration;
  /**
   * Runs the master's jobs on this schedule instead of every `interval`: a cron expression in
   * @nestjs/schedule's syntax (the `cron` package's, with an optional seconds field), e.g.
   * `'0 0 2 * * *'` for every day at 02:00. Each slot runs once, whichever node leads.
   */
  cron?: string;
  /** The IANA time zone `cron` is read in, e.g. `'Europe/Paris'`. Default: this node's. */
  timeZone?: string;
  /**
   * What a new master does with the slots of `cron` that fell due while nobody led (a crash, a
   * Redis failover): `'latest'` (default) runs the most recent one, once, if an earlier slot ran
   * within the last two periods (at least a day); `'none'` skips it. Either way a slot runs
   * within a short grace after it fell due (2 s plus a third of the lease).
   */
  catchUp?: 'none' | 'latest';
  /** Counts in the module's `balance` (or, with `true`, balances this one alone). Default: the module's. */
  balance?: boolean;
}
