import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { describeStore } from '../../lib/core/create-store.js';
import { resolveKettleOptions } from '../../lib/core/options/resolve-options.js';
import { MemoryStore } from '../../lib/index.js';

const clients: Array<Redis | Cluster> = [];
afterEach(() => clients.splice(0).forEach((client) => client.disconnect()));

/** The store part of the start line for `redis`, as resolved from the options. */
const line = (redis: unknown, env: NodeJS.ProcessEnv = {}) =>
  describeStore(resolveKettleOptions({ redis } as never, env).store);

describe('the store, as the start line names it: the address, never a password', () => {
  it('a URL: scheme, host, port and database, without user info or query', () => {
    expect(line('rediss://app:pw-secret@redis.internal:6380/2?password=pw-query')).toBe(
      'Redis rediss://redis.internal:6380/2',
    );
    expect(line(undefined, { REDIS_URL: 'redis://:pw-secret@10.0.0.5:6379' })).toBe(
      'Redis redis://10.0.0.5:6379',
    );
  });

  it('ioredis options: host and port, a socket path, or Sentinel and its name', () => {
    expect(line({ host: 'redis.internal', port: 6390, password: 'pw-secret', tls: {} })).toBe(
      'Redis redis.internal:6390 (TLS)',
    );
    expect(line(undefined, { REDIS_HOST: '10.1.2.3:6380', REDIS_PASSWORD: 'pw-secret' })).toBe(
      'Redis 10.1.2.3:6380',
    );
    expect(line({ path: '/run/redis.sock' })).toBe('Redis unix:/run/redis.sock');
    // A URL given as the host, a common slip: its password is not shown either.
    expect(line({ host: 'redis://app:pw-secret@redis.internal:6380' })).toBe(
      'Redis redis://app:***@redis.internal:6380:6379',
    );
    expect(line(['redis://a:1', 'redis://b:2', { host: 'rediss://:pw-secret@c' }])).toBe(
      'a quorum of 3 Redis servers (Redis redis://a:1, Redis redis://b:2, Redis rediss://:***@c:6379)',
    );
    const sentinels = [
      { host: 's1', port: 26379 },
      { host: 's2', port: 26380 },
    ];
    expect(line({ sentinels, name: 'mymaster', sentinelPassword: 'pw-secret' })).toBe(
      'Redis Sentinel "mymaster" (s1:26379, s2:26380)',
    );
  });

  it("a client's own settings; a Cluster's startup nodes; a quorum's servers; the others", () => {
    const redis = new Redis({
      host: 'cache',
      port: 6381,
      password: 'pw-secret',
      lazyConnect: true,
    });
    const cluster = new Cluster([{ host: 'n1', port: 7000 }, 'redis://:pw-secret@n2:7001'], {
      lazyConnect: true,
    });
    clients.push(redis, cluster);
    expect(line(redis)).toBe('Redis cache:6381');
    expect(line(cluster)).toBe('Redis Cluster (n1:7000, redis://:***@n2:7001)');
    expect(line(['redis://a:1', 'redis://:pw-secret@b:2', { host: 'c', port: 3 }])).toBe(
      'a quorum of 3 Redis servers (Redis redis://a:1, Redis redis://b:2, Redis c:3)',
    );
    expect(describeStore({ kind: 'memory' })).toBe('the memory store (this process only)');
    expect(describeStore({ kind: 'custom', store: new MemoryStore() })).toBe(
      'a custom store (MemoryStore)',
    );
  });
});
