import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KettleLogger, KettleOptions } from '../interfaces/kettle-options.interface.js';
import { invalidOption, unknownOption } from '../kettle.messages.js';
import type { KettleStore } from '../store/kettle-store.interface.js';
import { checkKeyPrefix, DEFAULT_KEY_PREFIX } from '../store/keys.js';
import {
  checkQuorum,
  connectionFromEnv,
  type RedisConnection,
  redisConnection,
} from '../store/redis-connection.js';
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_FAIL_FAST_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
} from './defaults.js';
import { didYouMean } from '../utils/did-you-mean.js';
import { type ElectionDefaults, resolveElection } from './election-options.js';
import { boolean, duration, hasMethods, nonEmptyString, oneOf } from './validators.js';

/** The options after defaults, the environment and validation. */
export interface ResolvedKettleOptions {
  readonly keyPrefix: string;
  readonly nodeId: string;
  readonly interval: number;
  readonly leaseTtl: number;
  /** The default of every election: intervals under a second are refused unless it is true. */
  readonly allowShortInterval: boolean;
  /** The default of every election: its leadership is spread over the nodes. */
  readonly balance: boolean;
  /** How a crashed master is noticed: by its connections closing, or when its lease runs out. */
  readonly crashDetection: CrashDetection;
  readonly shutdownTimeout: number;
  readonly verbose: boolean;
  readonly store: StoreChoice;
  /** Undefined: the default of where kettle runs (Nest's Logger, or the console). */
  readonly logger?: KettleLogger;
  /** Set: bootstrap waits this long for the store, and fails when it cannot be reached. */
  readonly failFast?: { readonly timeoutMs: number };
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
  'allowShortInterval',
  'leaseTtl',
  'shutdownTimeout',
  'verbose',
  'store',
  'logger',
  'failFast',
  'balance',
  'crashDetection',
];
export type CrashDetection = 'connection' | 'lease';
const CRASH_DETECTION: readonly CrashDetection[] = ['connection', 'lease'];
const STORE_METHODS = [
  'acquire',
  'renew',
  'release',
  'holder',
  'claimRun',
  'onReleased',
  'close',
] as const;
const LOGGER_METHODS = ['log', 'warn', 'error', 'debug'] as const;

/** Validates the options and fills in defaults; throws an error that names the bad option and value. */
export function resolveKettleOptions(
  options: KettleOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedKettleOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(invalidOption('options', options, 'an object'));
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) {
      const value = (options as Record<string, unknown>)[key];
      throw new TypeError(unknownOption(key, value, KNOWN_OPTIONS, didYouMean(key, KNOWN_OPTIONS)));
    }
  }
  const { store = 'redis' } = options;
  return {
    keyPrefix: checkKeyPrefix(
      'keyPrefix',
      nonEmptyString('keyPrefix', options.keyPrefix ?? DEFAULT_KEY_PREFIX),
    ),
    nodeId: nonEmptyString('nodeId', options.nodeId ?? defaultNodeId()),
    shutdownTimeout: duration(
      'shutdownTimeout',
      options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
      0,
    ),
    verbose: boolean('verbose', options.verbose ?? false),
    crashDetection: oneOf('crashDetection', options.crashDetection ?? 'lease', CRASH_DETECTION),
    ...moduleTiming(options),
    logger: options.logger === undefined ? undefined : logger(options.logger),
    ...(options.failFast !== undefined && failFast(options.failFast)),
    store: store === 'redis' ? redisStore(options.redis, env) : otherStore(store),
  };
}

/** The module's interval and lease, the defaults of every election. */
function moduleTiming(options: KettleOptions): ElectionDefaults {
  const allowShortInterval = boolean('allowShortInterval', options.allowShortInterval ?? false);
  const { interval, leaseTtl, balance } = resolveElection(
    {
      interval: DEFAULT_INTERVAL_MS,
      leaseTtl: DEFAULT_LEASE_TTL_MS,
      allowShortInterval,
      balance: false,
    },
    {
      interval: options.interval,
      leaseTtl: options.leaseTtl,
      allowShortInterval,
      balance: options.balance,
    },
  );
  return { interval, leaseTtl, allowShortInterval, balance };
}

function logger(value: unknown): KettleLogger {
  if (hasMethods(value, LOGGER_METHODS)) return value as KettleLogger;
  throw new TypeError(
    invalidOption('logger', value, `an object with ${LOGGER_METHODS.join(', ')} methods`),
  );
}

function failFast(value: unknown): { failFast?: { timeoutMs: number } } {
  if (value === false || value === 'false') return {};
  if (value === true || value === 'true')
    return { failFast: { timeoutMs: DEFAULT_FAIL_FAST_TIMEOUT_MS } };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const { timeoutMs = DEFAULT_FAIL_FAST_TIMEOUT_MS, ...rest } = value as { timeoutMs?: unknown };
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) {
      const suggestion = didYouMean(unknown, ['timeoutMs']) && 'failFast.timeoutMs';
      throw new TypeError(
        unknownOption(
          `failFast.${unknown}`,
          (rest as Record<string, unknown>)[unknown],
          ['failFast.timeoutMs'],
          suggestion,
        ),
      );
    }
    return { failFast: { timeoutMs: duration('failFast.timeoutMs', timeoutMs, 1) } };
  }
  throw new TypeError(invalidOption('failFast', value, 'true, false or { timeoutMs }'));
}

function otherStore(store: unknown): StoreChoice {
  if (store === 'memory') return { kind: 'memory' };
  if (hasMethods(store, STORE_METHODS)) {
    // Optional, but one that is there is called: a non-function would fail at every firing.
    for (const method of ['claimSlot', 'heartbeat']) {
      const value = (store as Record<string, unknown>)[method];
      if (value !== undefined && typeof value !== 'function') {
        throw new TypeError(
          invalidOption(`store.${method}`, value, `a function, or no ${method} (see KettleStore)`),
        );
      }
    }
    return { kind: 'custom', store: store as unknown as KettleStore };
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
function redisStore(redis: KettleOptions['redis'], env: NodeJS.ProcessEnv): StoreChoice {
  if (!Array.isArray(redis)) {
    const connection =
      redis === undefined ? connectionFromEnv(env) : redisConnection('redis', redis);
    return { kind: 'redis', connection };
  }
  const connections = redis.map((entry: unknown, i) => redisConnection(`redis[${i}]`, entry));
  checkQuorum(connections, 'redis');
  return { kind: 'quorum', connections };
}

function defaultNodeId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
