import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { sleep, waitFor } from '#tools/wait.js';
import { RedisStore } from '../../lib/index.js';
import { newLease } from '../../lib/core/store/lease.js';
import { LEASE_OPS, LEASES } from '../../lib/core/store/scripts.js';
import type { RunClaim, RunClaimAnswer } from '../../lib/core/store/kettle-store.interface.js';
import { uniquePrefix } from '../support/nodes.js';

/**
 * RedisStore sends the lease commands of one turn as one LEASES call. A private server: its
 * command counts are this file's alone.
 */
describe('RedisStore lease batches', () => {
  let server: RedisServer;
  let raw: Redis;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
    raw = new Redis(server.redisOptions);
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    raw?.disconnect();
    await server?.kill();
  });

  async function storeWith(count: number) {
    const keyPrefix = uniquePrefix();
    const store = new RedisStore({ connection: { url: server.url }, keyPrefix });
    stores.push(store);
    await waitFor(() => store.connected, 'the store to connect');
    const names = Array.from({ length: count }, (_, i) => `job-${i}`);
    return { store, keyPrefix, names };
  }

  /** Script calls (EVAL or EVALSHA) and the inner commands of each kind that `step` made. */
  async function calls(step: () => Promise<unknown>) {
    const kinds = ['eval', 'evalsha', 'get', 'set', 'pexpire', 'pttl', 'time'] as const;
    const count = () => Promise.all(kinds.map((kind) => server.commandCalls(kind)));
    const before = await count();
    await step();
    const after = await count();
    const delta = Object.fromEntries(kinds.map((kind, i) => [kind, after[i]! - before[i]!]));
    return { scripts: delta.eval! + delta.evalsha!, ...delta };
  }

  it('sends the acquires, claims and renewals of one turn as one call, 500 leases at most', async () => {
    const { store, names } = await storeWith(1200);
    const leases = names.map((name) => newLease(name, 5000));
    let terms: number[] = [];
    const acquired = await calls(async () => {
      const results = await Promise.all(
        names.map((name, i) => store.acquire(name, leases[i]!, 5000)),
      );
      terms = results.map((result) => (result.acquired ? result.term : -1));
    });
    expect(acquired.scripts).toBe(3);
    expect(terms.every((term) => term > 0)).toBe(true);
    const claimed = await calls(() =>
      Promise.all(names.map((name, i) => store.claimRun(name, leases[i]!, 1000, 5000))),
    );
    expect(claimed.scripts).toBe(3);
    const renewed = await calls(async () => {
      const answers = await Promise.all(
        names.slice(0, 400).map((name, i) => store.renew(name, leases[i]!, 5000)),
      );
      expect(answers.every(Boolean)).toBe(true);
    });
    expect(renewed.scripts).toBe(1);
  });

  it('answers each lease of a batch on its own: an owner check per lease', async () => {
    const { store, names } = await storeWith(3);
    const [a, b, c] = names as [string, string, string];
    const mine = newLease('me', 5000);
    const theirs = newLease('them', 5000);
    await Promise.all([
      store.acquire(a, mine, 5000),
      store.acquire(b, theirs, 5000),
      store.acquire(c, mine, 5000),
    ]);
    const { scripts } = await calls(async () => {
      const answers = await Promise.all([
        store.renew(a, mine, 5000),
        store.renew(b, mine, 5000),
        store.claimRun(c, mine, 1000, 5000),
        store.claimRun(b, mine, 1000, 5000),
      ]);
      expect(answers).toEqual([
        true,
        false,
        expect.objectContaining({ outcome: 'run' }),
        { outcome: 'not-holder' },
      ]);
    });
    expect(scripts).toBe(1);
  });

  it('costs one command inside Redis per claim of a held lease, with the lease at least two intervals long', async () => {
    const { store, names } = await storeWith(100);
    const leases = names.map((name) => newLease(name, 5000));
    await Promise.all(names.map((name, i) => store.acquire(name, leases[i]!, 5000)));
    const claimAll = () =>
      Promise.all(names.map((name, i) => store.claimRun(name, leases[i]!, 50, 5000)));
    // The first claim of a leadership reads the last run; the next ones know it.
    await claimAll();
    await sleep(60);
    const next = await calls(async () => {
      const claims = await claimAll();
      expect(claims.every((claim) => claim.outcome === 'run')).toBe(true);
    });
    expect(next).toMatchObject({ scripts: 1, time: 1, set: 100, get: 0, pexpire: 0, pttl: 0 });
  });

  it('records each slot at its claim when the lease is shorter than two intervals', async () => {
    const { store, keyPrefix, names } = await storeWith(1);
    const [name] = names as [string];
    const lease = newLease('a', 5000);
    await store.acquire(name, lease, 5000);
    const claimed = await calls(async () => {
      const claim = await store.claimRun(name, lease, 3000, 5000);
      if (claim.outcome !== 'run') throw new Error(`claimed ${claim.outcome}`);
      expect(await raw.get(`${keyPrefix}{${name}}:lastrun`)).toBe(String(claim.slotMs));
    });
    expect(claimed).toMatchObject({ scripts: 1, set: 2 });
  });

  it('records the last claimed slot at a release, so the next master keeps the grid', async () => {
    const { store, keyPrefix, names } = await storeWith(1);
    const [name] = names as [string];
    const first = newLease('a', 5000);
    await store.acquire(name, first, 5000);
    const claim = await store.claimRun(name, first, 300, 5000);
    if (claim.outcome !== 'run') throw new Error(`claimed ${claim.outcome}`);
    const lastRun = `${keyPrefix}{${name}}:lastrun`;
    // A lease of five seconds outlives two intervals: nothing is written until the release.
    expect(await raw.exists(lastRun)).toBe(0);
    expect(await store.release(name, first)).toBe(true);
    expect(await raw.get(lastRun)).toBe(String(claim.slotMs));
    const second = newLease('b', 5000);
    expect((await store.acquire(name, second, 5000)).acquired).toBe(true);
    const early = await store.claimRun(name, second, 300, 5000);
    expect(early).toEqual({ outcome: 'wait', waitMs: expect.any(Number) });
    if (early.outcome !== 'wait') return;
    await sleep(early.waitMs + 5);
    expect(await store.claimRun(name, second, 300, 5000)).toMatchObject({
      outcome: 'run',
      slotMs: claim.slotMs! + 300,
    });
  });

  it("puts back another holder's value with the TTL it carries, never a caller's shorter one", async () => {
    const { store, keyPrefix, names } = await storeWith(2);
    const [held, foreign] = names as [string, string];
    const holder = newLease('holder', 5000);
    await store.acquire(held, holder, 5000);
    expect(await store.renew(held, newLease('stale', 1), 1)).toBe(false);
    expect(await store.claimRun(held, newLease('stale', 1), 1000, 1)).toEqual({
      outcome: 'not-holder',
    });
    const lock = `${keyPrefix}{${held}}:lock`;
    expect(await raw.get(lock)).toBe(holder);
    expect(await raw.pttl(lock)).toBeGreaterThan(4000);
    // A value that carries no TTL (not written by kettle) gets the caller's.
    const foreignLock = `${keyPrefix}{${foreign}}:lock`;
    await raw.set(foreignLock, 'someone', 'PX', 60_000);
    expect(await store.renew(foreign, newLease('stale', 2000), 2000)).toBe(false);
    expect(await raw.get(foreignLock)).toBe('someone');
    expect(await raw.pttl(foreignLock)).toBeLessThanOrEqual(2000);
  });

  it('answers the other leases of a call when one of them fails in Redis', async () => {
    const { store, keyPrefix, names } = await storeWith(2);
    const [good, bad] = names as [string, string];
    const lease = newLease('a', 5000);
    await store.acquire(good, lease, 5000);
    // A lock key of another type (a key prefix shared with other data) fails its own lease only.
    await raw.hset(`${keyPrefix}{${bad}}:lock`, 'not', 'a lease');
    const [renewed, refused] = await Promise.allSettled([
      store.renew(good, lease, 5000),
      store.renew(bad, newLease('a', 5000), 5000),
    ]);
    expect(renewed).toEqual({ status: 'fulfilled', value: true });
    expect(refused).toMatchObject({ status: 'rejected', reason: { message: /WRONGTYPE/ } });
  });

  it('claims many runs in one call, each answered on its own, the same as claimRun would', async () => {
    const { store, keyPrefix, names } = await storeWith(4);
    const [mine, theirs, refused, again] = names as [string, string, string, string];
    const lease = newLease('a', 5000);
    await Promise.all([mine, again].map((name) => store.acquire(name, lease, 5000)));
    await store.acquire(theirs, newLease('b', 5000), 5000);
    await raw.hset(`${keyPrefix}{${refused}}:lock`, 'not', 'a lease');
    const claim = (name: string) => ({ name, lease, intervalMs: 60_000, ttlMs: 5000 });
    // Each answer once, by its claim's index.
    const claimRuns = (claims: RunClaim[]) =>
      new Promise<RunClaimAnswer[]>((resolve) => {
        const answers: RunClaimAnswer[] = [];
        let left = claims.length;
        store.claimRuns(claims, (i, answer) => {
          expect(answers[i]).toBeUndefined();
          answers[i] = answer;
          if (--left === 0) resolve(answers);
        });
      });
    let answers: readonly unknown[] = [];
    const { scripts } = await calls(async () => {
      answers = await claimRuns([claim(mine), claim(theirs), claim(refused), claim(again)]);
    });
    expect(scripts).toBe(1);
    expect(answers).toEqual([
      { outcome: 'run', nextInMs: expect.any(Number), slotMs: expect.any(Number) },
      { outcome: 'not-holder' },
      {
        outcome: 'failed',
        error: expect.objectContaining({ message: expect.stringMatching(/WRONGTYPE/) }),
      },
      { outcome: 'run', nextInMs: expect.any(Number), slotMs: expect.any(Number) },
    ]);
    // The slot each claimed is this leadership's: its next claim within the interval waits.
    expect(await claimRuns([claim(mine)])).toEqual([
      { outcome: 'wait', waitMs: expect.any(Number) },
    ]);
    expect(await store.claimRun(again, lease, 60_000, 5000)).toMatchObject({ outcome: 'wait' });
  });

  it("never leaves a stale caller's value in the lock, whatever TTL the value it found carries", async () => {
    const { store, keyPrefix, names } = await storeWith(1);
    const [name] = names as [string];
    const lock = `${keyPrefix}{${name}}:lock`;
    const found = `other#${'0'.repeat(32)}:100000000000000000`;
    await raw.set(lock, found, 'PX', 60_000);
    const stale = store.renew(name, newLease('stale', 2000), 2000);
    await expect(stale).resolves.toBe(false);
    expect(await raw.get(lock)).toBe(found);
  });

  it('sends the lease commands queued in its last turn before it closes', async () => {
    const { store, keyPrefix, names } = await storeWith(1);
    const [name] = names as [string];
    const lease = newLease('a', 5000);
    await store.acquire(name, lease, 5000);
    const released = store.release(name, lease);
    await store.close();
    expect(await released).toBe(true);
    expect(await raw.exists(`${keyPrefix}{${name}}:lock`)).toBe(0);
  });

  // Nodes of an older version write leases without the TTL suffix. A node of this version whose
  // lease is stale puts such a value back with its own TTL: shorter when its leaseTtl is, and the
  // older holder, still master on its own clock, then shares the election with the next master.
  it.fails('never shortens a lease an older version wrote, which carries no TTL', async () => {
    const { store, keyPrefix, names } = await storeWith(1);
    const [name] = names as [string];
    const lock = `${keyPrefix}{${name}}:lock`;
    await raw.set(lock, `old-node#${'0'.repeat(32)}`, 'PX', 30_000);
    expect(await store.renew(name, newLease('stale', 2000), 2000)).toBe(false);
    expect(await raw.pttl(lock)).toBeGreaterThan(25_000);
  });

  it('fails the whole call on a server that is no longer primary, so that the client reconnects', async () => {
    const replica = await RedisServer.start();
    try {
      await replica.replicaOf(server);
      await replica.synced();
      const keyPrefix = uniquePrefix();
      const lock = `${keyPrefix}{job}:lock`;
      const lease = newLease('a', 5000);
      await raw.set(lock, lease, 'PX', 5000);
      await waitFor(async () => (await replica.admin.get(lock)) === lease, 'the lock replicated');
      const renew = [`${LEASE_OPS.renew}:5000::`, lease, 'job'];
      // As one item of a batch would: READONLY is the reply, not one item's answer.
      await expect(
        replica.admin.eval(
          LEASES,
          2,
          lock,
          lock,
          `${keyPrefix}released`,
          `${keyPrefix}alive:`,
          ...renew,
        ),
      ).rejects.toThrow(/^READONLY/);
    } finally {
      await replica.kill();
    }
  });

  it('sends a command called after queued lease commands after them', async () => {
    const { store, names } = await storeWith(1);
    const [name] = names as [string];
    const lease = newLease('a', 5000);
    await store.acquire(name, lease, 5000);
    const released = store.release(name, lease);
    expect(await store.holder(name)).toBeNull();
    expect(await released).toBe(true);
  });
});
