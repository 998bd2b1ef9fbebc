import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../lib/index.js';
import { resolveKettleOptions } from '../lib/core/options/resolve-options.js';
import { redactUrl } from '../lib/core/kettle.messages.js';
import { electionTiming } from '../lib/core/election/timing.js';

describe('resolveKettleOptions', () => {
  it('fills in documented defaults', () => {
    const options = resolveKettleOptions({}, {});
    expect(options).toMatchObject({
      keyPrefix: 'kettle:',
      interval: 30_000,
      leaseTtl: 10_000,
      shutdownTimeout: 10_000,
      verbose: false,
      store: { kind: 'redis', connection: { options: { host: '127.0.0.1', port: 6379 } } },
    });
    expect(options.nodeId).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
  });

  it('reads the original kettle environment: REDIS_HOST, REDIS_PASSWORD, REDIS_TIMEOUT_SECONDS', () => {
    const { store } = resolveKettleOptions(
      {},
      { REDIS_HOST: '10.1.2.3:6380', REDIS_PASSWORD: 's3cret', REDIS_TIMEOUT_SECONDS: '5' },
    );
    expect(store).toEqual({
      kind: 'redis',
      connection: {
        options: { host: '10.1.2.3', port: 6380, password: 's3cret', connectTimeout: 5000 },
      },
    });
    const v6 = resolveKettleOptions({}, { REDIS_HOST: '[::1]:7000' }).store;
    expect(v6).toEqual({ kind: 'redis', connection: { options: { host: '::1', port: 7000 } } });
    const noPort = resolveKettleOptions({}, { REDIS_HOST: 'redis.internal' }).store;
    expect(noPort).toEqual({
      kind: 'redis',
      connection: { options: { host: 'redis.internal', port: 6379 } },
    });
  });

  it('prefers REDIS_URL, and the redis option over the environment', () => {
    const fromUrl = resolveKettleOptions(
      {},
      { REDIS_URL: 'rediss://cache:6390/2', REDIS_HOST: 'ignored:1', REDIS_PASSWORD: 'pw' },
    );
    expect(fromUrl.store).toEqual({
      kind: 'redis',
      connection: { url: 'rediss://cache:6390/2', options: { password: 'pw' } },
    });
    const explicit = resolveKettleOptions(
      { redis: { host: 'h', port: 1 } },
      { REDIS_URL: 'redis://x:1' },
    );
    expect(explicit.store).toEqual({
      kind: 'redis',
      connection: { options: { host: 'h', port: 1 } },
    });
    const client = new Redis({ lazyConnect: true });
    expect(resolveKettleOptions({ redis: client }, {}).store).toEqual({
      kind: 'redis',
      connection: { client },
    });
  });

  it('takes the memory store and a custom store', () => {
    expect(resolveKettleOptions({ store: 'memory' }, {}).store).toEqual({ kind: 'memory' });
    const custom = new MemoryStore('custom:');
    expect(resolveKettleOptions({ store: custom }, {}).store).toEqual({
      kind: 'custom',
      store: custom,
    });
  });

  it('rejects a custom store whose claimSlot is there but not a function', () => {
    for (const claimSlot of ['yes', null, {}]) {
      const store = Object.assign(new MemoryStore('custom:'), { claimSlot });
      expect(() => resolveKettleOptions({ store }, {})).toThrow(
        /invalid option "store.claimSlot": .*; expected a function, or no claimSlot/,
      );
    }
    // Declared but unset (an optional class field) is no claimSlot.
    const unset = Object.assign(new MemoryStore('custom:'), { claimSlot: undefined });
    expect(resolveKettleOptions({ store: unset }, {}).store).toMatchObject({ kind: 'custom' });
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'interval 0',
      { interval: 0 },
      /"interval": 0; expected a number of milliseconds from 1 to 2147483647/,
    ],
    [
      'an interval longer than a timer can wait',
      { interval: 30 * 24 * 3600_000 },
      /"interval": 2592000000/,
    ],
    ['an interval under 1 ms', { interval: 0.5 }, /"interval": 0.5/],
    ['interval NaN', { interval: Number.NaN }, /"interval": NaN/],
    ['interval as a string', { interval: '1000' }, /"interval": "1000"/],
    ['leaseTtl Infinity', { leaseTtl: Infinity }, /"leaseTtl": Infinity/],
    [
      'a lease too short for its renew period',
      { leaseTtl: 50 },
      /"leaseTtl": 50; expected at least 100 ms/,
    ],
    ['negative shutdownTimeout', { shutdownTimeout: -1 }, /"shutdownTimeout": -1/],
    ['empty keyPrefix', { keyPrefix: '' }, /"keyPrefix": ""/],
    [
      'a keyPrefix with an empty hash tag',
      { keyPrefix: 'app{}:' },
      /"keyPrefix": "app\{\}:"; expected a prefix whose first "\{" is not directly followed by "\}"/,
    ],
    ['nodeId as a number', { nodeId: 7 }, /"nodeId": 7/],
    ['verbose as a string', { verbose: 'yes' }, /"verbose": "yes"/],
    ['an http URL', { redis: 'http://localhost:6379' }, /"redis": "http:\/\/localhost:6379"/],
    ['a malformed URL', { redis: 'not a url' }, /"redis": "not a url"/],
    ['redis as a number', { redis: 6379 }, /"redis": 6379/],
    [
      'an unknown store',
      { store: 'mongo' },
      /"store": "mongo"; expected 'redis', 'memory' or a KettleStore/,
    ],
    [
      'a misspelt option',
      { leaseTTL: 3000 },
      /"leaseTTL": 3000; expected one of .* \(unknown option\)/,
    ],
  ];
  it.each(bad)(
    'rejects %s with an error naming the option and the value',
    (_, options, message) => {
      expect(() => resolveKettleOptions(options as never, {})).toThrow(message);
    },
  );

  it('rejects bad environment values by name', () => {
    expect(() => resolveKettleOptions({}, { REDIS_HOST: 'h:99999' })).toThrow(
      /"REDIS_HOST": "h:99999"/,
    );
    expect(() => resolveKettleOptions({}, { REDIS_TIMEOUT_SECONDS: 'soon' })).toThrow(
      /"REDIS_TIMEOUT_SECONDS": "soon"/,
    );
    expect(() => resolveKettleOptions({}, { REDIS_URL: 'localhost:6379' })).toThrow(/"REDIS_URL"/);
  });

  it('never puts a password into an error or a log', () => {
    expect(() => resolveKettleOptions({ redis: 'http://user:hunter2@host:1' }, {})).toThrow(
      /user:\*\*\*@host/,
    );
    expect(redactUrl('redis://:hunter2@host:6379/0')).toBe('redis://:***@host:6379/0');
    expect(redactUrl('redis://host:6379')).toBe('redis://host:6379');
    expect(redactUrl('redis://u:p@ss/w@rd@host:1')).toBe('redis://u:***@host:1');
    expect(redactUrl('rediss://user@host:1')).toBe('rediss://user@host:1');
    expect(() => resolveKettleOptions({ password: 'hunter2' } as never, {})).toThrow(
      /invalid option "password": a string; expected one of/,
    );
  });
});

describe('electionTiming', () => {
  it('orders drift < renew < renew deadline < lease, as client-go orders its periods', () => {
    for (const lease of [100, 1000, 3000, 10_000, 60_000]) {
      const timing = electionTiming(1000, lease);
      expect(timing.drift).toBeLessThan(timing.renewEvery);
      // Two renewals may fail before the master steps down.
      expect(timing.renewEvery * 2).toBeLessThan(timing.renewDeadline);
      // It steps down a fifth of the lease (at least the drift) before the lease can end.
      expect(timing.renewDeadline).toBeLessThanOrEqual(
        lease - Math.max(timing.drift, lease / 5) + 1,
      );
      expect(timing.safetyMargin).toBeLessThan(timing.renewDeadline);
    }
    expect(electionTiming(1000, 10_000)).toMatchObject({
      renewEvery: 3333,
      retryEvery: 3333,
      drift: 102,
      renewDeadline: 8000,
    });
  });
});
