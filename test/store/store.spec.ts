import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { sleep, waitFor } from '#tools/wait.js';
import { MemoryStore, QuorumStore, RedisStore, type KettleStore } from '../../lib/index.js';
import { newLease } from '../../lib/core/store/lease.js';
import type { FleetMember, SlotClaim } from '../../lib/core/store/kettle-store.interface.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

/** The Redis connection refuses lock commands until it is ready: it has no offline queue. */
const answering = (store: KettleStore) =>
  waitFor(
    () =>
      store.holder('warm-up').then(
        () => true,
        () => false,
      ),
    'the store to answer',
  );

/** The quorum's three servers: independent ones, as a quorum must have. */
const quorumServers: RedisServer[] = [];
beforeAll(async () => {
  for (let i = 0; i < 3; i++) quorumServers.push(await RedisServer.start());
});
afterAll(async () => {
  await Promise.all(quorumServers.map((server) => server.kill()));
});

type ContractStore = KettleStore & Required<Pick<KettleStore, 'claimSlot' | 'heartbeat'>>;

const stores: Array<[string, (prefix: string) => ContractStore]> = [
  [
    'RedisStore',
    (keyPrefix) => new RedisStore({ connection: { url: SHARED_REDIS_URL }, keyPrefix }),
  ],
  ['MemoryStore', (keyPrefix) => new MemoryStore(keyPrefix)],
  [
    'QuorumStore',
    (keyPrefix) =>
      new QuorumStore({
        connections: quorumServers.map((server) => ({ url: server.url })),
        keyPrefix,
      }),
  ],
];

describe.each(stores)('%s (the store contract)', (_, create) => {
  let store: ContractStore;
  const opened: KettleStore[] = [];
  beforeEach(async () => {
    store = create(`test:${randomBytes(4).toString('hex')}:`);
    opened.push(store);
    await answering(store);
  });
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });

  it('acquires a free lease once and returns increasing terms', async () => {
    const a = newLease('a', 5000);
    const first = await store.acquire('job', a, 5000);
    expect(first.acquired).toBe(true);
    const contended = await store.acquire('job', newLease('b', 5000), 5000);
    expect(contended).toMatchObject({ acquired: false, holder: 'a' });
    expect(contended.acquired === false && contended.ttlMs).toBeGreaterThan(4000);
    expect(await store.holder('job')).toBe('a');

    expect(await store.release('job', a)).toBe(true);
    const second = await store.acquire('job', newLease('b', 5000), 5000);
    expect(second.acquired && second.term).toBeGreaterThan(first.acquired ? first.term : Infinity);
  });

  it('seeds a new term from the clock, so a store that lost its data does not repeat terms', async () => {
    const result = await store.acquire('fresh', newLease('a', 5000), 5000);
    expect(result.acquired && result.term).toBeGreaterThan(Date.now() - 60_000);
  });

  it('renews and releases only for the holder of the lease', async () => {
    const a = newLease('a', 5000);
    await store.acquire('job', a, 300);
    expect(await store.renew('job', newLease('a', 5000), 5000)).toBe(false);
    expect(await store.release('job', newLease('a', 5000))).toBe(false);
    expect(await store.renew('job', a, 5000)).toBe(true);
    await sleep(400);
    expect(await store.holder('job')).toBe('a');
    expect(await store.release('job', a)).toBe(true);
    expect(await store.holder('job')).toBeNull();
    expect(await store.renew('job', a, 5000)).toBe(false);
  });

  it('lets the lease expire after its TTL, and never revives it', async () => {
    const a = newLease('a', 5000);
    await store.acquire('job', a, 100);
    await waitFor(async () => (await store.holder('job')) === null, 'the lease to expire', 2000);
    // A quorum takes back a free server on renewal, but a lease gone from a majority stays gone.
    expect(await store.renew('job', a, 5000)).toBe(false);
    expect(await store.holder('job')).toBeNull();
    expect((await store.acquire('job', newLease('b', 5000), 5000)).acquired).toBe(true);
  });

  it('announces a release to every listener', async () => {
    const heard: string[] = [];
    const unsubscribe = store.onReleased((name) => heard.push(name));
    // The subscription may still be on its way: release until a message arrives.
    await waitFor(async () => {
      const a = newLease('a', 5000);
      await store.acquire('job', a, 5000);
      await store.release('job', a);
      await sleep(20);
      return heard.includes('job');
    }, 'the release message');
    unsubscribe();
  });

  it('renews the lease with every claim, and only for its holder', async () => {
    const a = newLease('a', 5000);
    await store.acquire('job', a, 300);
    await store.claimRun('job', a, 1000, 5000);
    await sleep(400);
    expect(await store.holder('job')).toBe('a');
    const b = newLease('b', 5000);
    expect(await store.claimRun('job', b, 1000, 50)).toEqual({ outcome: 'not-holder' });
    await sleep(100);
    expect(await store.holder('job')).toBe('a');
  });

  it('claims one run per interval and keeps the cadence across holders', async () => {
    const a = newLease('a', 5000);
    await store.acquire('job', a, 5000);
    expect(await store.claimRun('job', newLease('b', 5000), 1000, 5000)).toEqual({
      outcome: 'not-holder',
    });
    const run = await store.claimRun('job', a, 1000, 5000);
    expect(run.outcome).toBe('run');
    const again = await store.claimRun('job', a, 1000, 5000);
    expect(again.outcome).toBe('wait');
    // Most of the interval is left (less the round trips).
    expect(again.outcome === 'wait' && again.waitMs).toBeGreaterThan(500);

    // A new holder inherits the slot: it waits for the rest of the interval instead of running again.
    await store.release('job', a);
    const b = newLease('b', 5000);
    await store.acquire('job', b, 5000);
    const inherited = await store.claimRun('job', b, 1000, 5000);
    expect(inherited.outcome).toBe('wait');
    // Claim 300 ms late: on the grid, the next slot is still one interval after this slot, not
    // one interval after the late claim (that would be exactly 1000 ms away).
    await sleep(inherited.outcome === 'wait' ? inherited.waitMs + 300 : 0);
    const next = await store.claimRun('job', b, 1000, 5000);
    expect(next.outcome).toBe('run');
    expect(next.outcome === 'run' && next.nextInMs).toBeLessThan(950);
    expect(next.outcome === 'run' && next.nextInMs).toBeGreaterThan(0);
  });

  it("says which slot an interval run is, on the store's clock", async () => {
    const a = newLease('a', 5000);
    await store.acquire('job', a, 5000);
    const before = Date.now();
    const run = await store.claimRun('job', a, 1000, 5000);
    expect(run.outcome).toBe('run');
    const slotMs = run.outcome === 'run' ? run.slotMs : NaN;
    // The servers are on this machine: their clock is this one.
    expect(slotMs).toBeGreaterThanOrEqual(before - 50);
    expect(slotMs).toBeLessThanOrEqual(Date.now() + 50);
  });

  it('keeps the fleet of balance: each live node with what it leads, until its record expires', async () => {
    const sorted = (members: FleetMember[]) =>
      [...members].sort((x, y) => x.nodeId.localeCompare(y.nodeId));
    const record = (nodeId: string, leading: number) => ({
      nodeId,
      leading,
      balanced: 9,
      group: 'g1',
      beats: 0,
      // How long ago its last beat came, on the store's clock: a few ms here at most.
      ageMs: expect.toSatisfy((ms: number) => ms >= 0 && ms < 100) as unknown as number,
    });
    expect(await store.heartbeat(record('a', 3), 5000)).toEqual([{ ...record('a', 3), beats: 1 }]);
    const both = await store.heartbeat(record('b', 6), 150);
    expect(sorted(both)).toEqual([
      { ...record('a', 3), beats: 1 },
      { ...record('b', 6), beats: 1 },
    ]);
    // A record is replaced, not added to, and its beats counted.
    expect(await store.heartbeat(record('a', 4), 5000)).toContainEqual({
      ...record('a', 4),
      beats: 2,
    });
    // b stops beating: gone once its record expires, and counted afresh when it comes back.
    await sleep(300);
    expect(await store.heartbeat(record('a', 4), 5000)).toEqual([{ ...record('a', 4), beats: 3 }]);
    expect(await store.heartbeat(record('b', 0), 5000)).toContainEqual({
      ...record('b', 0),
      beats: 1,
    });
    // A ttl of 0 takes the node out at once.
    expect(await store.heartbeat(record('a', 0), 0)).toEqual([{ ...record('b', 0), beats: 1 }]);
  });

  describe('claimSlot', () => {
    const options = { term: 7, graceMs: 5000, catchUp: true, keepMs: 60_000 };
    /**
     * store.claimSlot, its answer without the store's clock, which every answer but not-holder
     * carries: the servers are on this machine, so their clock is this one.
     */
    async function claim(...args: Parameters<typeof store.claimSlot>): Promise<SlotClaim> {
      const before = Date.now();
      const answer = await store.claimSlot(...args);
      if (answer.outcome === 'not-holder') return answer;
      const { storeNowMs, ...rest } = answer;
      expect(storeNowMs).toBeGreaterThanOrEqual(before - 50);
      expect(storeNowMs).toBeLessThanOrEqual(Date.now() + 50);
      return rest;
    }

    it('runs each slot once, across holders, and never one older than the last claimed', async () => {
      const a = newLease('a', 5000);
      await store.acquire('job', a, 5000);
      const slot = Date.now() - 100;
      expect(await claim('job', newLease('b', 5000), slot, 5000, options)).toEqual({
        outcome: 'not-holder',
      });
      expect(await claim('job', a, slot, 5000, options)).toEqual({ outcome: 'run' });
      expect(await claim('job', a, slot - 1000, 5000, options)).toEqual({
        outcome: 'already-ran',
        lastSlotMs: slot,
      });
      // A new holder (a hand-over) finds the slot taken, and runs the next one.
      await store.release('job', a);
      const b = newLease('b', 5000);
      await store.acquire('job', b, 5000);
      const next = { ...options, term: 8 };
      expect(await claim('job', b, slot, 5000, next)).toMatchObject({
        outcome: 'already-ran',
      });
      expect(await claim('job', b, slot + 50, 5000, next)).toEqual({ outcome: 'run' });
    });

    it('answers run again to the term that claimed the slot (its answer may have been lost), to no other', async () => {
      const a = newLease('a', 5000);
      await store.acquire('job', a, 5000);
      const slot = Date.now() - 100;
      expect(await claim('job', a, slot, 5000, options)).toEqual({ outcome: 'run' });
      expect(await claim('job', a, slot, 5000, options)).toEqual({ outcome: 'run' });
      // The early and late checks still apply.
      const strict = { ...options, graceMs: 10, catchUp: false };
      expect(await claim('job', a, slot, 5000, strict)).toMatchObject({
        outcome: 'late',
      });
      // Another term cannot know whether the slot ran: it does not run it.
      const other = { ...options, term: 8 };
      expect(await claim('job', a, slot, 5000, other)).toEqual({
        outcome: 'already-ran',
        lastSlotMs: slot,
      });
    });

    it("with sinceLastMs, runs a firing only when none was claimed that long before on the store's clock", async () => {
      const a = newLease('a', 5000);
      await store.acquire('job', a, 5000);
      const interval = { ...options, key: 'Jobs.sweep', sinceLastMs: 300 };
      // The slot the node names is ignored: its clock may say anything.
      expect(await claim('job', a, 0, 5000, interval)).toEqual({ outcome: 'run' });
      const again = await claim('job', a, Date.now() + 60_000, 5000, interval);
      expect(again.outcome).toBe('already-ran');
      await sleep(350);
      expect(await claim('job', a, 0, 5000, interval)).toEqual({ outcome: 'run' });
    });

    it('records the schedule with the slot, and tells a claimer that reads it otherwise', async () => {
      const a = newLease('a', 5000);
      await store.acquire('job', a, 5000);
      const slot = Date.now() - 1000;
      const utc = { ...options, schedule: "cron '0 0 2 * * *' in UTC" };
      const paris = { ...options, schedule: "cron '0 0 2 * * *' in Europe/Paris" };
      expect(await claim('job', a, slot, 5000, utc)).toEqual({ outcome: 'run' });
      expect(await claim('job', a, slot - 10, 5000, paris)).toEqual({
        outcome: 'already-ran',
        lastSlotMs: slot,
        recordedSchedule: utc.schedule,
      });
      // It runs as usual, and records its own.
      expect(await claim('job', a, slot + 10, 5000, paris)).toEqual({
        outcome: 'run',
        recordedSchedule: utc.schedule,
      });
      expect(await claim('job', a, slot + 20, 5000, paris)).toEqual({ outcome: 'run' });
    });

    it('keeps the slots of each key apart', async () => {
      const a = newLease('a', 5000);
      await store.acquire('job', a, 5000);
      const slot = Date.now() - 100;
      expect(await claim('job', a, slot, 5000, options)).toEqual({ outcome: 'run' });
      for (const key of ['Reports.daily', 'Reports.hourly'])
        expect(await claim('job', a, slot, 5000, { ...options, key })).toEqual({
          outcome: 'run',
        });
    });

    it("refuses a slot still in the future on the store's clock, and says how long to wait", async () => {
      const a = newLease('a', 5000);
      await store.acquire('job', a, 300);
      const early = await claim('job', a, Date.now() + 2000, 5000, options);
      expect(early.outcome).toBe('early');
      expect(early.outcome === 'early' && early.waitMs).toBeGreaterThan(1500);
      expect(early.outcome === 'early' && early.waitMs).toBeLessThanOrEqual(2000);
      // It renewed the lease all the same.
      await sleep(400);
      expect(await store.holder('job')).toBe('a');
    });

    it('skips a slot past its grace, unless an earlier slot ran and it is caught up', async () => {
      const a = newLease('a', 5000);
      await store.acquire('job', a, 5000);
      const now = Date.now();
      // Nothing ran before: even catching up, an old slot is late (a first deploy).
      const first = await claim('job', a, now - 20_000, 5000, {
        ...options,
        graceMs: 1000,
      });
      expect(first.outcome).toBe('late');
      expect(first.outcome === 'late' && first.lateMs).toBeGreaterThanOrEqual(20_000);
      expect(await claim('job', a, now - 20_000, 5000, { ...options, graceMs: 30_000 })).toEqual({
        outcome: 'run',
      });
      // A later slot missed while nobody led: late without catch-up, run with it.
      const missed = now - 10_000;
      const strict = { ...options, graceMs: 1000, catchUp: false };
      expect(await claim('job', a, missed, 5000, strict)).toMatchObject({
        outcome: 'late',
      });
      expect(await claim('job', a, missed, 5000, { ...options, graceMs: 1000 })).toEqual({
        outcome: 'run',
      });
    });
  });
});

describe('RedisStore keys', () => {
  it('puts every key of one election under one hash tag, so it sits in one Cluster slot', async () => {
    const prefix = `test:${randomBytes(4).toString('hex')}:`;
    const store = new RedisStore({ connection: { url: SHARED_REDIS_URL }, keyPrefix: prefix });
    const redis = new Redis(SHARED_REDIS_URL);
    try {
      await answering(store);
      const lease = newLease('a', 5000);
      await store.acquire('billing', lease, 5000);
      // A lease shorter than two intervals: the claim records its slot in Redis at once.
      await store.claimRun('billing', lease, 3000, 5000);
      const keys = (await redis.keys(`${prefix}*`)).sort();
      expect(keys).toEqual([
        `${prefix}{billing}:lastrun`,
        `${prefix}{billing}:lock`,
        `${prefix}{billing}:term`,
      ]);
      const value = await redis.get(`${prefix}{billing}:lock`);
      expect(value).toBe(lease);
    } finally {
      redis.disconnect();
      await store.close();
    }
  });

  it('does not quit a client it was given', async () => {
    const client = new Redis(SHARED_REDIS_URL);
    const store = new RedisStore({ connection: { client }, keyPrefix: 'test:given:' });
    try {
      await answering(store);
      await store.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      await store.close();
      client.disconnect();
    }
  });
});
