import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type {
  ElectionOptions,
  KettleLogger,
  KettleModuleOptions,
} from './interfaces/kettle-module-options.interface.js';
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_REDIS_PORT,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  MIN_LEASE_TTL_MS,
} from './kettle.constants.js';
import { intervalAndCron, invalidOption, onlyWithCron } from './kettle.messages.js';
import {
  CATCH_UP_VALUES,
  type CatchUp,
  CronSchedule,
  DEFAULT_CATCH_UP,
} from './election/schedule.js';
import type { KettleStore } from './store/kettle-store.interface.js';
import type { RedisConnection } from './store/redis.store.js';
import { checkKeyPrefix } from './store/keys.js';
import { checkQuorum } from './store/quorum-connections.js';

/** The module's options after defaults, the environment and validation. */
export interface ResolvedKettleOptions {
  readonly keyPrefix: string;
  readonly nodeId: string;
  readonly interval: number;
  readonly leaseTtl: number;
  readonly shutdownTimeout: number;
  readonly verbose: boolean;
  readonly store: StoreChoice;
  /** Undefined: the default of where kettle runs (Nest's Logger, or the console). */
  readonly logger?: KettleLogger;
}

export type StoreChoice =
  | { readonly kind: 'redis'; readonly connection: RedisConnection }
  /** Independent servers; a lease is held only with a majority of them. */
  | { readonly kind: 'quorum'; readonly connections: readonly RedisConnection[] }
  | { readonly kind: 'memory' }
  /** The user's own: kettle never closes it. */
  | { readonly kind: 'custom'; readonly store: KettleStore };

const KNOWN_OPTIONS = [
  'redis',
  'keyPrefix',
  'nodeId',
  'interval',
  'leaseTtl',
  'shutdownTimeout',
  'verbose',
  'store',
  'logger',
];
const STORE_METHODS = [
  'acquire',
  'renew',
  'release',
  'holder',
  'claimRun',
  'onReleased',
  'close',
] as const;

/** Validates the options and fills in defaults; throws an error that names the bad option and value. */
export function resolveKettleOptions(
  options: KettleModuleOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedKettleOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(invalidOption('options', options, 'an object'));
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) {
      throw new TypeError(
        invalidOption(
          key,
          (options as Record<string, unknown>)[key],
          `one of ${KNOWN_OPTIONS.join(', ')} (unknown option)`,
          true,
        ),
      );
    }
  }
  const { store = 'redis' } = options;
  return {
    keyPrefix: checkKeyPrefix(
      'keyPrefix',
      nonEmptyString('keyPrefix', options.keyPrefix ?? DEFAULT_KEY_PREFIX),
    ),
    nodeId: nonEmptyString('nodeId', options.nodeId ?? defaultNodeId()),
    shutdownTimeout: milliseconds(
      'shutdownTimeout',
      options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
      0,
    ),
    verbose: boolean('verbose', options.verbose ?? false),
    ...moduleTiming(options),
    logger: options.logger === undefined ? undefined : logger(options.logger),
    store: store === 'redis' ? redisStore(options.redis, env) : otherStore(store),
  };
}

/** The module's interval and lease, the defaults of every election. */
function moduleTiming(options: KettleModuleOptions): { interval: number; leaseTtl: number } {
  const { interval, leaseTtl } = resolveElection(
    { interval: DEFAULT_INTERVAL_MS, leaseTtl: DEFAULT_LEASE_TTL_MS },
    { interval: options.interval, leaseTtl: options.leaseTtl },
  );
  return { interval, leaseTtl };
}

/** An election's settings after defaults and validation. */
export interface ResolvedElection {
  readonly interval: number;
  readonly leaseTtl: number;
  /** Set when the jobs run on a cron schedule rather than every `interval`. */
  readonly cron?: { readonly schedule: CronSchedule; readonly catchUp: CatchUp };
}

/** An election's interval (or cron schedule) and lease: its own where given, else the module's. */
export function resolveElection(
  defaults: { readonly interval: number; readonly leaseTtl: number },
  options: ElectionOptions = {},
  where = '',
): ResolvedElection {
  checkElectionKeys(options, where);
  const { cron, timeZone, catchUp } = options;
  if (options.interval !== undefined && cron !== undefined)
    throw new TypeError(intervalAndCron(where, options.interval, cron));
  if (cron === undefined) {
    if (timeZone !== undefined) throw new TypeError(onlyWithCron(`${where}timeZone`, timeZone));
    if (catchUp !== undefined) throw new TypeError(onlyWithCron(`${where}catchUp`, catchUp));
  }
  return {
    interval: milliseconds(`${where}interval`, options.interval ?? defaults.interval, 1),
    leaseTtl: leaseTtl(`${where}leaseTtl`, options.leaseTtl ?? defaults.leaseTtl),
    ...(cron !== undefined && {
      cron: {
        schedule: cronSchedule(where, cron, timeZone),
        catchUp: oneOf(`${where}catchUp`, catchUp ?? DEFAULT_CATCH_UP, CATCH_UP_VALUES),
      },
    }),
  };
}

/** The settings one election may have of its own. */
export const ELECTION_OPTION_KEYS = [
  'interval',
  'leaseTtl',
  'cron',
  'timeZone',
  'catchUp',
] as const;

/** `@OnMaster` and `join` take the election settings only: a typo must not pass silently. */
export function checkElectionKeys(options: object, where: string): void {
  for (const [key, value] of Object.entries(options)) {
    if (!(ELECTION_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new TypeError(
        invalidOption(
          `${where}${key}`,
          value,
          `one of ${ELECTION_OPTION_KEYS.join(', ')} (unknown option)`,
          true,
        ),
      );
    }
  }
}

/** The zone is checked first, so that the error names the option at fault. */
export function cronSchedule(where: string, cron: unknown, timeZone: unknown): CronSchedule {
  if (timeZone !== undefined) {
    try {
      if (typeof timeZone !== 'string' || timeZone === '') throw new Error('not a string');
      new CronSchedule('* * * * * *', timeZone);
    } catch {
      throw new TypeError(
        invalidOption(`${where}timeZone`, timeZone, "an IANA time zone, e.g. 'Europe/Paris'"),
      );
    }
  }
  try {
    if (typeof cron !== 'string' || cron.trim() === '') throw new Error('not a string');
    return new CronSchedule(cron, timeZone as string | undefined);
  } catch (error) {
    const reason = error instanceof Error && typeof cron === 'string' ? ` (${error.message})` : '';
    throw new TypeError(
      invalidOption(
        `${where}cron`,
        cron,
        `a cron expression in @nestjs/schedule's syntax, with an optional seconds field, e.g. '0 0 2 * * *'${reason}`,
      ),
    );
  }
}

function oneOf<T extends string>(option: string, value: unknown, values: readonly T[]): T {
  if (!(values as readonly unknown[]).includes(value))
    throw new TypeError(invalidOption(option, value, values.map((v) => `'${v}'`).join(' or ')));
  return value as T;
}

export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new TypeError(invalidOption(option, value, 'a non-empty string'));
  return value;
}

/** Node's timers hold at most 2^31 - 1 ms; longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** A whole number of milliseconds from `min` to what a timer can hold. */
export function milliseconds(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw new TypeError(
      invalidOption(option, value, `a number of milliseconds from ${min} to ${MAX_TIMER_MS}`),
    );
  }
  return Math.round(value);
}

function leaseTtl(option: string, value: unknown): number {
  const ms = milliseconds(option, value, 1);
  if (ms < MIN_LEASE_TTL_MS) {
    throw new TypeError(
      invalidOption(
        option,
        value,
        `at least ${MIN_LEASE_TTL_MS} ms, so that a renewal (every third of the lease) fits before it ends`,
      ),
    );
  }
  return ms;
}

function boolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new TypeError(invalidOption(option, value, 'true or false'));
  return value;
}

const LOGGER_METHODS = ['log', 'warn', 'error', 'debug'] as const;

function logger(value: unknown): KettleLogger {
  const candidate = value as Partial<Record<(typeof LOGGER_METHODS)[number], unknown>> | null;
  if (
    candidate &&
    typeof candidate === 'object' &&
    LOGGER_METHODS.every((m) => typeof candidate[m] === 'function')
  ) {
    return candidate as KettleLogger;
  }
  throw new TypeError(
    invalidOption('logger', value, `an object with ${LOGGER_METHODS.join(', ')} methods`),
  );
}

function otherStore(store: unknown): StoreChoice {
  if (store === 'memory') return { kind: 'memory' };
  const candidate = store as Partial<Record<(typeof STORE_METHODS)[number], unknown>> | null;
  if (
    candidate &&
    typeof candidate === 'object' &&
    STORE_METHODS.every((m) => typeof candidate[m] === 'function')
  ) {
    // Optional, but one that is there is called: a non-function would fail at every firing.
    const { claimSlot } = candidate as { claimSlot?: unknown };
    if (claimSlot !== undefined && typeof claimSlot !== 'function') {
      throw new TypeError(
        invalidOption(
          'store.claimSlot',
          claimSlot,
          'a function, or no claimSlot (see KettleStore)',
        ),
      );
    }
    return { kind: 'custom', store: candidate as KettleStore };
  }
  throw new TypeError(
    invalidOption(
      'store',
      store,
      `'redis', 'memory' or a KettleStore (with ${STORE_METHODS.join(', ')})`,
    ),
  );
}

/** One Redis, or a quorum of independent servers when `redis` is an array. */
function redisStore(redis: KettleModuleOptions['redis'], env: NodeJS.ProcessEnv): StoreChoice {
  if (!Array.isArray(redis)) {
    const connection =
      redis === undefined ? connectionFromEnv(env) : redisConnection('redis', redis);
    return { kind: 'redis', connection };
  }
  const connections = redis.map((entry: unknown, i) => redisConnection(`redis[${i}]`, entry));
  checkQuorum(connections, 'redis');
  return { kind: 'quorum', connections };
}

function redisConnection(option: string, redis: unknown): RedisConnection {
  // Duck-typed, not instanceof: the app may have a copy of ioredis of its own.
  if (isClient(redis)) return { client: redis };
  if (typeof redis === 'string') return { url: redisUrl(option, redis) };
  if (redis === null || typeof redis !== 'object' || Array.isArray(redis)) {
    throw new TypeError(
      invalidOption(
        option,
        redis,
        'a redis:// or rediss:// URL, ioredis options, or an ioredis client',
      ),
    );
  }
  const options = redis as RedisOptions;
  if (options.sentinels !== undefined) checkSentinels(option, options);
  return { options };
}

/** Sentinel settings are checked here, so that the error names the option (ioredis's does not). */
function checkSentinels(option: string, options: RedisOptions): void {
  if (!Array.isArray(options.sentinels) || options.sentinels.length === 0) {
    throw new TypeError(
      invalidOption(
        `${option}.sentinels`,
        options.sentinels,
        'a non-empty array of { host, port }',
      ),
    );
  }
  if (typeof options.name !== 'string' || options.name === '') {
    throw new TypeError(
      invalidOption(
        `${option}.name`,
        options.name,
        "the sentinels' name of the master, e.g. 'mymaster'",
      ),
    );
  }
}

function isClient(value: unknown): value is Redis | Cluster {
  const candidate = value as { duplicate?: unknown; isCluster?: unknown } | null;
  return typeof candidate?.duplicate === 'function' && typeof candidate.isCluster === 'boolean';
}

/** The original kettle's variables, plus REDIS_URL. */
function connectionFromEnv(env: NodeJS.ProcessEnv): RedisConnection {
  const options: RedisOptions = {};
  if (env.REDIS_TIMEOUT_SECONDS) {
    const seconds = Number(env.REDIS_TIMEOUT_SECONDS);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new TypeError(
        invalidOption(
          'REDIS_TIMEOUT_SECONDS',
          env.REDIS_TIMEOUT_SECONDS,
          'a positive number of seconds',
        ),
      );
    }
    options.connectTimeout = seconds * 1000;
  }
  if (env.REDIS_URL) {
    const url = redisUrl('REDIS_URL', env.REDIS_URL);
    if (env.REDIS_PASSWORD && !new URL(url).password) options.password = env.REDIS_PASSWORD;
    return { url, options };
  }
  if (env.REDIS_PASSWORD) options.password = env.REDIS_PASSWORD;
  const { host, port } = env.REDIS_HOST
    ? hostAndPort(env.REDIS_HOST)
    : { host: '127.0.0.1', port: DEFAULT_REDIS_PORT };
  return { options: { ...options, host, port } };
}

function redisUrl(option: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname) {
    throw new TypeError(
      invalidOption(option, value, 'a redis://host:port or rediss://host:port URL'),
    );
  }
  return value;
}

/** `host:port`, `host`, or `[v6]:port`, as REDIS_HOST is written for the original kettle. */
function hostAndPort(value: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(value);
  const port = match?.[2] === undefined ? DEFAULT_REDIS_PORT : Number(match[2]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(invalidOption('REDIS_HOST', value, 'host:port, e.g. 10.0.0.5:6379'));
  }
  return { host: match[1], port };
}

function defaultNodeId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
