import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger } from '../../lib/core/index.js';
import { QuorumStore, RedisStore } from '../../lib/index.js';
import { newLease } from '../../lib/core/store/lease.js';
import { electionKey, hashTagOf, slotKey } from '../../lib/core/store/keys.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };
const KINDS = ['lock', 'term', 'lastrun', 'slot'] as const;
/** A term key's life past its term: a clock off by whole hours (local time) must not repeat a term. */
const DAY_MS = 24 * 3_600_000;

/** The part of a key that Redis Cluster hashes: the first `{…}` if it is not empty, else all. */
function hashedPart(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/**
 * The inverse of hashTagOf: `%25`, `%7B` and `%7D` (uppercase, as written) are codes, every other
 * `%` is literal. That it gives every name back shows that two names never share a key.
 */
function nameOf(tag: string): string {
  return tag.replace(/%(25|7B|7D)/g, (_, code: string) => String.fromCharCode(parseInt(code, 16)));
}

describe('election keys', () => {
  const names = [
    'billing',
    '}x',
    '{}',
    'a{b}c',
    '{',
    '}',
    '%',
    '%%',
    '%7D',
    '%257D',
    '%7B',
    '%25',
    '%2525',
    '%7b',
    '%7d',
    '%2',
    '%2%25',
    '%%7B',
    '%{',
    '%7{',
    '%2{5',
    '{%}',
    '}%',
    '%7D%',
    'a%20b',
    'ü b',
  ];
  const prefixes = ['kettle:', 'app{x}:', 'app{', 'a}b:', 'app{x}{}:'];

  it('keeps the keys of a name without {, } or the sequences %25, %7B, %7D as they were', () => {
    expect(KINDS.map((kind) => electionKey('kettle:', 'billing', kind))).toEqual([
      'kettle:{billing}:lock',
      'kettle:{billing}:term',
      'kettle:{billing}:lastrun',
      'kettle:{billing}:slot',
    ]);
    expect(slotKey('kettle:', 'billing', 'Reports.daily')).toBe(
      'kettle:{billing}:slot:Reports.daily',
    );
    // URL-encoded names, a lone %, lowercase codes: nodes of any version use the same keys.
    for (const name of ['tenant-42/ü b:c', 'acme%20corp', '50%', '%', '%%', '%7b', '%7d', '%2']) {
      expect(hashTagOf(name), name).toBe(name);
    }
  });

  it('puts the keys of any name in one Cluster slot, with any accepted prefix', () => {
    for (const prefix of prefixes) {
      for (const name of names) {
        const hashed = [
          ...KINDS.map((kind) => electionKey(prefix, name, kind)),
          slotKey(prefix, name, 'Reports.daily'),
        ].map(hashedPart);
        expect(new Set(hashed).size, `${prefix} ${name}: ${hashed.join(' | ')}`).toBe(1);
      }
    }
  });

  it('gives two names two different keys', () => {
    for (const name of names) expect(nameOf(hashTagOf(name)), name).toBe(name);
    const keys = names.map((name) => electionKey('kettle:', name, 'lock'));
    expect(new Set(keys).size).toBe(names.length);
    expect(hashTagOf('}x')).toBe('%7Dx');
    expect(hashTagOf('%7Dx')).toBe('%257Dx');
    expect(hashTagOf('%{')).toBe('%%7B');
  });

  it('refuses a prefix whose first { is directly followed by }, naming it', () => {
    for (const keyPrefix of ['{}', 'app{}:', 'a{}b{c}:']) {
      expect(() => new RedisStore({ connection: { url: SHARED_REDIS_URL }, keyPrefix })).toThrow(
        `invalid option "keyPrefix": ${JSON.stringify(keyPrefix)}; expected a prefix whose first "{" is not directly followed by "}"`,
      );
    }
  });
});

describe('election keys expire', () => {
  const quorum: RedisServer[] = [];
  const clients: Redis[] = [];
  const closing: Array<{ close(): Promise<void> } | { stop(): Promise<void> }> = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) quorum.push(await RedisServer.start());
  });
  afterEach(async () => {
    await Promise.all(
      closing.splice(0).map((thing) => ('stop' in thing ? thing.stop() : thing.close())),
    );
    for (const client of clients.splice(0)) client.disconnect();
  });
  afterAll(async () => {
    await Promise.all(quorum.map((server) => server.kill()));
  });

  const client = (url: string) => {
    const redis = new Redis(url);
    clients.push(redis);
    return redis;
  };

  /** When the server's clock will have passed the term key's value, less the key's life. */
  async function lifePastTerm(redis: Redis, key: string): Promise<number> {
    const [term, expiresAt] = await Promise.all([
      redis.get(key),
      redis.call('PEXPIRETIME', key) as Promise<number>,
    ]);
    return Number(expiresAt) - Number(term);
  }

  it.each([
    ['one Redis', [SHARED_REDIS_URL]],
    ['a quorum', [0, 1, 2]],
  ] as const)('leaves no key without a TTL after leave() (%s)', async (_, servers) => {
    const urls = servers.map((s) => (typeof s === 'number' ? quorum[s].url : s));
    const keyPrefix = uniquePrefix();
    const kettle = new Kettle({
      redis: urls.length === 1 ? urls[0] : urls,
      keyPrefix,
      nodeId: 'a',
      interval: 100,
      allowShortInterval: true,
      leaseTtl: 1500,
      logger: silent,
    });
    closing.push(kettle);
    let runs = 0;
    kettle.join('tenant-7', { run: () => void runs++ });
    kettle.start();
    await waitFor(() => runs >= 2, 'two runs');
    await kettle.leave('tenant-7');
    const seen = new Set<string>();
    for (const url of urls) {
      const redis = client(url);
      for (const key of await redis.keys(`${keyPrefix}*`)) {
        seen.add(key);
        // -1 is a key without a TTL; -2, one that expired since KEYS (a last run lives 200 ms).
        expect(await redis.pttl(key), key).not.toBe(-1);
      }
    }
    // A quorum server that came up late holds no term key: it was never part of an acquire.
    expect([...seen]).toContain(electionKey(keyPrefix, 'tenant-7', 'term'));
  });

  it('keeps a term key until the server clock has passed its term by a day, and terms rise once it is gone', async () => {
    const keyPrefix = uniquePrefix();
    const redis = client(SHARED_REDIS_URL);
    const store = new RedisStore({ connection: { url: SHARED_REDIS_URL }, keyPrefix });
    closing.push(store);
    const termKey = electionKey(keyPrefix, 'job', 'term');
    // A term ten minutes ahead of the clock: acquires faster than the clock moves, or a server
    // whose clock is ahead, leave one so. Its key must outlive it, not the time of the acquire.
    const [seconds] = (await redis.time()) as [number | string, number | string];
    await redis.set(termKey, String(Number(seconds) * 1000 + 600_000));
    const lease = newLease('a', 5000);
    const ahead = await waitFor(
      () => store.acquire('job', lease, 5000).catch(() => null),
      'acquire',
    );
    expect(ahead.acquired).toBe(true);
    const aheadTerm = ahead.acquired ? ahead.term : 0;
    expect(await redis.get(termKey)).toBe(String(aheadTerm));
    expect(await lifePastTerm(redis, termKey)).toBeGreaterThanOrEqual(DAY_MS - 1000);
    expect(await lifePastTerm(redis, termKey)).toBeLessThanOrEqual(DAY_MS + 1000);
    await store.release('job', lease);

    // Once a key is gone its server's clock has passed the term, so the next term, seeded from
    // that clock, is higher. Here it goes sooner (PEXPIRE), but only after the clock passed it.
    const otherKey = electionKey(keyPrefix, 'other', 'term');
    const first = await store.acquire('other', lease, 5000);
    const term = first.acquired ? first.term : Infinity;
    await store.release('other', lease);
    await redis.pexpire(otherKey, 1);
    await waitFor(async () => {
      const [s, us] = (await redis.time()) as [number | string, number | string];
      const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
      return now > term && (await redis.exists(otherKey)) === 0;
    }, 'the term key to be gone and the clock past its term');
    const next = await store.acquire('other', lease, 5000);
    expect(next.acquired && next.term).toBeGreaterThan(term);
  });

  it('gives each quorum server a term key that lives until its clock has passed the term', async () => {
    const keyPrefix = uniquePrefix();
    const store = new QuorumStore({ connections: quorum.map(({ url }) => ({ url })), keyPrefix });
    closing.push(store);
    const termKey = electionKey(keyPrefix, 'job', 'term');
    const direct = quorum.map(({ url }) => client(url));
    // Two servers' terms ahead of the third's clock: every majority includes one of them, so the
    // term is theirs plus one, and the third server gets it only through RAISE_TERM.
    const [seconds] = (await direct[0].time()) as [number | string, number | string];
    const ahead = String(Number(seconds) * 1000 + 600_000);
    await Promise.all([direct[0].set(termKey, ahead), direct[1].set(termKey, ahead)]);
    // A server whose connection was not ready yet misses an acquire, and a round settles on a
    // majority (the third raise may land later): acquire again until all three hold the term.
    const term = await waitFor(async () => {
      const lease = newLease('a', 5000);
      const result = await store.acquire('job', lease, 5000).catch(() => null);
      if (!result?.acquired) return null;
      await store.release('job', lease).catch(() => false);
      const terms = await Promise.all(direct.map((redis) => redis.get(termKey)));
      return terms.every((stored) => stored === String(result.term)) ? result.term : null;
    }, 'every server to hold the acquired term');
    expect(term).toBeGreaterThan(Number(ahead));
    const lives = await Promise.all(direct.map((redis) => lifePastTerm(redis, termKey)));
    lives.forEach((life, server) => {
      expect(life, `server ${server}`).toBeGreaterThanOrEqual(DAY_MS - 1000);
      expect(life, `server ${server}`).toBeLessThanOrEqual(DAY_MS + 1000);
    });
  });
});
