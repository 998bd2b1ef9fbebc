import type { Redis, RedisOptions } from 'ioredis';
import { redactUrl, redactUrlsIn } from './kettle.messages.js';
import type { ResolvedKettleOptions, StoreChoice } from './options/resolve-options.js';
import type { RedisConnection } from './store/redis-connection.js';
import type { KettleStore } from './store/kettle-store.interface.js';
import { MemoryStore } from './store/memory.store.js';
import { QuorumStore } from './store/quorum.store.js';
import { RedisStore } from './store/redis.store.js';

/**
 * The store the resolved options name; connection problems go to `onError` and a server set up in
 * a way that endangers leases to `onWarning` (logged, never thrown).
 */
export function createStore(
  options: ResolvedKettleOptions,
  onError: (where: string, error: Error) => void,
  onWarning: (message: string) => void,
): KettleStore {
  const { store, keyPrefix } = options;
  if (store.kind === 'custom') return store.store;
  const crashDetection = options.crashDetection === 'connection';
  if (store.kind === 'memory') return new MemoryStore(keyPrefix, undefined, { crashDetection });
  const clientName = options.nodeId;
  if (store.kind === 'quorum') {
    const { connections } = store;
    return new QuorumStore({ connections, keyPrefix, clientName, onError, onWarning });
  }
  return new RedisStore({
    connection: store.connection,
    keyPrefix,
    clientName,
    onError,
    onWarning,
    crashDetection,
  });
}

/**
 * Where the leases live, for the line logged at start: the kind and the address, never a
 * password (a URL is shown without its user info and query).
 */
export function describeStore(store: StoreChoice): string {
  if (store.kind === 'memory') return 'the memory store (this process only)';
  if (store.kind === 'custom')
    return `a custom store (${store.store.constructor?.name ?? 'anonymous'})`;
  // A URL may sit where a host belongs (`{ host: process.env.REDIS_URL }`): its password goes too.
  if (store.kind === 'quorum')
    return redactUrlsIn(
      `a quorum of ${store.connections.length} Redis servers (${store.connections.map(addressOf).join(', ')})`,
    );
  return redactUrlsIn(addressOf(store.connection));
}

function addressOf(connection: RedisConnection): string {
  if ('url' in connection) {
    const url = new URL(connection.url);
    return `Redis ${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  }
  if ('client' in connection) {
    const { client } = connection;
    if (client.isCluster) {
      // The nodes it was given; ioredis keeps them in a field its types mark private.
      const startup = (client as unknown as { startupNodes?: unknown[] }).startupNodes ?? [];
      const nodes = startup.map((node) => {
        if (node === null || typeof node !== 'object') return redactUrl(String(node));
        const { host, port } = node as { host?: string; port?: number };
        return `${host ?? '127.0.0.1'}:${port ?? 6379}`;
      });
      return `Redis Cluster (${nodes.join(', ')})`;
    }
    return addressOf({ options: (client as Redis).options });
  }
  const { sentinels, name, path, host, port, tls } = connection.options as RedisOptions;
  if (sentinels?.length) {
    const nodes = sentinels.map((s) => `${s.host ?? '127.0.0.1'}:${s.port ?? 26379}`);
    return `Redis Sentinel "${name}" (${nodes.join(', ')})`;
  }
  if (path) return `Redis unix:${path}`;
  return `Redis ${host ?? '127.0.0.1'}:${port ?? 6379}${tls ? ' (TLS)' : ''}`;
}
