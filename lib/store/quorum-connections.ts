import type { RedisOptions } from 'ioredis';
import { invalidOption } from '../kettle.messages.js';
import type { RedisConnection } from './redis.store.js';

const DEFAULT_PORT = 6379;
/** Fewer servers cannot lose one and keep a majority. */
export const MIN_QUORUM_SERVERS = 3;

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

/** What a user wrote, for an error message (which redacts a URL's password). */
function shown(connection: RedisConnection): unknown {
  if ('url' in connection) return connection.url;
  return 'client' in connection ? connection.client : connection.options;
}

/** `host:port`, `unix:path` or the Sentinel group that one entry reaches; undefined for a Cluster. */
function endpointOf(connection: RedisConnection): string | undefined {
  if ('url' in connection) {
    const url = new URL(connection.url);
    return hostAndPort(url.hostname, url.port);
  }
  if ('client' in connection) {
    if (connection.client.isCluster) return undefined;
    return endpointOf({ options: connection.client.options as RedisOptions });
  }
  const { path, sentinels, name, host, port } = connection.options;
  if (path) return `unix:${path}`;
  if (sentinels?.length) {
    const nodes = sentinels.map((s) => hostAndPort(s.host ?? 'localhost', s.port)).sort();
    return `sentinel ${name ?? 'mymaster'} at ${nodes.join(',')}`;
  }
  return hostAndPort(host ?? 'localhost', port);
}

function hostAndPort(host: string, port: string | number | undefined): string {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return `${bare === 'localhost' ? '127.0.0.1' : bare}:${Number(port) || DEFAULT_PORT}`;
}
