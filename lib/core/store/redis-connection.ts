import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { invalidOption } from '../kettle.messages.js';

/** Where RedisStore connects: a URL, ioredis options, or a client to copy the settings of. */
export type RedisConnection =
  | { readonly url: string; readonly options?: RedisOptions }
  | { readonly options: RedisOptions }
  | { readonly client: Redis | Cluster };

export const DEFAULT_REDIS_PORT = 6379;
/** Fewer servers cannot lose one and keep a majority. */
export const MIN_QUORUM_SERVERS = 3;

/** One entry of the `redis` option, checked; `option` names it in errors. */
export function redisConnection(option: string, redis: unknown): RedisConnection {
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

/** The original kettle's variables (REDIS_HOST, REDIS_PASSWORD, REDIS_TIMEOUT_SECONDS), plus REDIS_URL. */
export function connectionFromEnv(env: NodeJS.ProcessEnv): RedisConnection {
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
    ? parseHostAndPort(env.REDIS_HOST)
    : { host: '127.0.0.1', port: DEFAULT_REDIS_PORT };
  return { options: { ...options, host, port } };
}

/**
 * Checks the servers of a quorum: at least three, each listed once (a server listed twice would
 * count twice towards a majority) and none a Cluster client. `option` names them in errors.
 */
export function checkQuorum(connections: readonly RedisConnection[], option: string): void {
  if (!Array.isArray(connections) || connections.length < MIN_QUORUM_SERVERS) {
    throw new TypeError(
      invalidOption(
        option,
        connections,
        `an array of at least ${MIN_QUORUM_SERVERS} independent Redis servers (got ${
          Array.isArray(connections) ? connections.length : 'none'
        }), so that a majority of them still answers with one down`,
      ),
    );
  }
  const seen = new Map<string, number>();
  connections.forEach((connection, index) => {
    const where = `${option}[${index}]`;
    const endpoint = endpointOf(connection);
    if (endpoint === undefined) {
      throw new TypeError(
        invalidOption(where, shown(connection), 'one Redis server, not a Redis Cluster client'),
      );
    }
    const first = seen.get(endpoint);
    if (first !== undefined) {
      throw new TypeError(
        invalidOption(
          where,
          shown(connection),
          `a server not listed before; it is ${endpoint}, as ${option}[${first}] is`,
        ),
      );
    }
    seen.set(endpoint, index);
  });
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
function parseHostAndPort(value: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(value);
  const port = match?.[2] === undefined ? DEFAULT_REDIS_PORT : Number(match[2]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(invalidOption('REDIS_HOST', value, 'host:port, e.g. 10.0.0.5:6379'));
  }
  return { host: match[1], port };
}

/** What a user wrote, for an error message (which redacts a URL's password). */
function shown(connection: RedisConnection): unknown {
  if ('url' in connection) return connection.url;
  return 'client' in connection ? connection.client : connection.options;
}

/** `host:port`, `unix:path` or the Sentinel group that one entry reaches; undefined for a Cluster. */
function endpointOf(connection: RedisConnection): string | undefined {
  if ('url' in connection) {
    const url = new URL(connection.url);
    return endpoint(url.hostname, url.port);
  }
  if ('client' in connection) {
    if (connection.client.isCluster) return undefined;
    return endpointOf({ options: connection.client.options as RedisOptions });
  }
  const { path, sentinels, name, host, port } = connection.options;
  if (path) return `unix:${path}`;
  if (sentinels?.length) {
    const nodes = sentinels.map((s) => endpoint(s.host ?? 'localhost', s.port)).sort();
    return `sentinel ${name ?? 'mymaster'} at ${nodes.join(',')}`;
  }
  return endpoint(host ?? 'localhost', port);
}

/** One server's address in one spelling, so that two spellings of it compare equal. */
function endpoint(host: string, port: string | number | undefined): string {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return `${bare === 'localhost' ? '127.0.0.1' : bare}:${Number(port) || DEFAULT_REDIS_PORT}`;
}
