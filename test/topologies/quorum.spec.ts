import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { sleep, waitFor } from '#tools/wait.js';
import { KettleQuorumError, QuorumStore } from '../../lib/index.js';
import { resolveKettleOptions } from '../../lib/core/options/resolve-options.js';
import { newLease } from '../../lib/core/store/lease.js';
import { Harness } from '../support/apps.js';

const harness = new Harness();
afterEach(() => harness.cleanup());

/** A term far ahead of a fresh server's (those start from the clock, about 1.7e12). */
const AHEAD = 10_000_000_000_000;

/** A plain client that the tests keep using while its server is down. */
const quiet = (redis: Redis) => redis.on('error', () => undefined);

/** Three private redis-servers, a QuorumStore on them, and a plain client to each. */
async function quorum(count = 3) {
  const servers: RedisServer[] = [];
  for (let i = 0; i < count; i++) servers.push(await harness.server());
  const prefix = `test:${randomBytes(4).toString('hex')}:`;
  const store = new QuorumStore({
    connections: servers.map((server) => ({ url: server.url })),
    keyPrefix: prefix,
    clientName: 'quorum-test',
  });
  harness.defer(() => store.close());
  const direct = servers.map((server) => quiet(harness.client(server.url)));
  const key = (name: string, kind: 'lock' | 'term' | 'lastrun') => `${prefix}{${name}}:${kind}`;
  /** Waits until the store takes leases on the servers listed (all by default). */
  const reaches = (on = servers.map((_, i) => i)) =>
    waitFor(
      async () => {
        const lease = newLease('warm-up', 5000);
        const taken = await store.acquire('warm-up', lease, 5000).catch(() => undefined);
        const values = await Promise.all(on.map((i) => direct[i].get(key('warm-up', 'lock'))));
        await store.release('warm-up', lease).catch(() => undefined);
        return taken?.acquired && values.every((value) => value === lease);
      },
      `the store to reach servers ${on.join(', ')}`,
    );
  await reaches();
  return { servers, store, direct, key, reaches, prefix };
}

const termOf = (result: Awaited<ReturnType<QuorumStore['acquire']>>) =>
  result.acquired ? result.term : Number.NaN;

describe('QuorumStore on three redis-servers', () => {
  it('takes a free lease on every server, refuses a second holder, and counts terms on', async () => {
    const { store, direct, key } = await quorum();
    const a = newLease('a', 5000);
    const first = await store.acquire('job', a, 5000);
    expect(first.acquired).toBe(true);
    // The store answers at a majority; the third server follows on the same connection.
    await waitFor(
      async () =>
        (await Promise.all(direct.map((r) => r.get(key('job', 'lock'))))).every((v) => v === a),
      'the lease on all three servers',
    );
    const contended = await store.acquire('job', newLease('b', 5000), 5000);
    expect(contended).toMatchObject({ acquired: false, holder: 'a' });
    expect(contended.acquired === false && contended.ttlMs).toBeGreaterThan(4000);
    expect(await store.holder('job')).toBe('a');

    expect(await store.release('job', a)).toBe(true);
    expect(await store.holder('job')).toBeNull();
    const second = await store.acquire('job', newLease('b', 5000), 5000);
    expect(termOf(second)).toBeGreaterThan(termOf(first));
    expect(termOf(first)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('announceNode: a second token for one node id is told, from any server', async () => {
    const { store, direct, prefix } = await quorum();
    expect(await store.announceNode('web-1', 'first', 5000)).toBeNull();
    expect(await store.announceNode('web-1', 'first', 5000)).toBeNull();
    expect(await store.announceNode('web-1', 'second', 5000)).toBe('first');
    expect(await store.announceNode('web-1', 'first', 5000)).toBe('second');
    const key = `${prefix}node:{web-1}`;
    expect(await Promise.all(direct.map((r) => r.get(key)))).toEqual(['first', 'first', 'first']);
  });

  it('names a holder only when a majority of the servers agree on it', async () => {
    const { store, direct, key, servers } = await quorum();
    await direct[0].set(key('job', 'lock'), 'x#1', 'PX', 5000);
    await direct[1].set(key('job', 'lock'), 'y#1', 'PX', 5000);
    expect(await store.holder('job')).toBeNull();
    await direct[2].set(key('job', 'lock'), 'x#2', 'PX', 5000);
    expect(await store.holder('job')).toBe('x');

    await servers[0].kill();
    expect(await store.holder('job')).toBeNull(); // y and x: no majority
    await servers[1].kill();
    await expect(store.holder('job')).rejects.toThrow(KettleQuorumError);
  });

  it('still elects, renews, claims and releases with one server down', async () => {
    const { store, servers } = await quorum();
    await servers[1].kill();
    await waitFor(() => store.connected, 'a majority connected');
    const a = newLease('a', 5000);
    expect((await store.acquire('job', a, 5000)).acquired).toBe(true);
    expect(await store.renew('job', a, 5000)).toBe(true);
    expect((await store.claimRun('job', a, 1000, 5000)).outcome).toBe('run');
    expect(await store.holder('job')).toBe('a');
    // Another lease is refused, not an error: the down server's failure comes first, but the two
    // others say no, which is a majority.
    const b = newLease('b', 5000);
    expect(await store.acquire('job', b, 5000)).toMatchObject({ acquired: false, holder: 'a' });
    expect(await store.renew('job', b, 5000)).toBe(false);
    expect(await store.claimRun('job', b, 1000, 5000)).toEqual({ outcome: 'not-holder' });
    expect(await store.release('job', b)).toBe(false);
    expect(await store.release('job', a)).toBe(true);
  });

  it('with two servers down, says so (KettleQuorumError) instead of answering', async () => {
    const { store, servers } = await quorum();
    const a = newLease('a', 5000);
    expect((await store.acquire('job', a, 5000)).acquired).toBe(true);
    await servers[0].kill();
    await servers[2].kill();
    await waitFor(() => !store.connected, 'the store to see a minority');
    await expect(store.renew('job', a, 5000)).rejects.toThrow(KettleQuorumError);
    await expect(store.claimRun('job', a, 1000, 5000)).rejects.toThrow(/redis\[0\].*redis\[2\]/);
    await expect(store.acquire('other', newLease('b', 5000), 5000)).rejects.toThrow(
      KettleQuorumError,
    );
  });

  it('is not stalled by a hung server: each command answers with the majority', async () => {
    const { store, servers } = await quorum();
    servers[2].pause(); // SIGSTOP: its connection stays open and nothing answers
    const lease = newLease('a', 5000);
    const ttl = 20_000;
    const sentAt = performance.now();
    expect((await store.acquire('job', lease, ttl)).acquired).toBe(true);
    expect(await store.renew('job', lease, ttl)).toBe(true);
    expect((await store.claimRun('job', lease, 1000, ttl)).outcome).toBe('run');
    expect(await store.holder('job')).toBe('a');
    expect(await store.release('job', lease)).toBe(true);
    // The hung server's commands time out only at the end of the lease: nothing waited for them.
    expect(performance.now() - sentAt).toBeLessThan(ttl / 2);
  });

  it('gives a server whose address moved a new connection once its old one goes silent', async () => {
    const servers = [await harness.server(), await harness.server(), await harness.server()];
    const address = await TcpProxy.start(servers[0].port);
    harness.defer(() => address.close());
    const prefix = `test:${randomBytes(4).toString('hex')}:`;
    const store = new QuorumStore({
      connections: [{ url: address.url }, { url: servers[1].url }, { url: servers[2].url }],
      keyPrefix: prefix,
    });
    harness.defer(() => store.close());
    const lock = `${prefix}{job}:lock`;
    const first = quiet(harness.client(servers[0].url));
    const a = newLease('a', 5000);
    const ttl = 3000;
    await waitFor(() => store.connected, 'the store connected');
    expect((await store.acquire('job', a, ttl)).acquired).toBe(true);
    // The store is connected once a majority is: the acquire may have come before the connection
    // through the address, and a renewal then takes server 0.
    await waitFor(
      async () => (await store.renew('job', a, ttl)) && (await first.get(lock)) === a,
      'the lease on server 0',
    );

    // The address now leads to another server; the connection to the old one swallows everything.
    const moved = await harness.server();
    const behind = quiet(harness.client(moved.url));
    address.retarget(moved.port);
    address.blackHole();
    // Renewals hold with servers 1 and 2 meanwhile, and take back the server behind the address.
    await waitFor(async () => {
      expect(await store.renew('job', a, ttl)).toBe(true);
      return (await behind.get(lock)) === a;
    }, 'the lease on the server now behind the address');
  });

  it('answers an undecided command within a tenth of the lease, not when a hung server would', async () => {
    const { store, direct, key, servers } = await quorum();
    const ttl = 6000;
    const a = newLease('a', 5000);
    // Server 0 free (or ours), server 1 another node's: only the hung server 2 could decide.
    await direct[1].set(key('job', 'lock'), 'other#1', 'PX', 30_000);
    servers[2].pause();
    harness.defer(() => servers[2].resume());
    const timed = async (command: () => Promise<unknown>) => {
      const sentAt = performance.now();
      await expect(command()).rejects.toThrow(KettleQuorumError);
      return performance.now() - sentAt;
    };
    // An election gives its acquire a third of the lease (renewEvery) before it gives up on it.
    expect(await timed(() => store.acquire('job', a, ttl))).toBeLessThan(ttl / 3);
    expect(await direct[0].exists(key('job', 'lock'))).toBe(0); // the partial was dropped
    await direct[0].set(key('job', 'lock'), a, 'PX', 30_000);
    expect(await timed(() => store.renew('job', a, ttl))).toBeLessThan(ttl / 3);
    expect(await timed(() => store.claimRun('job', a, 1000, ttl))).toBeLessThan(ttl / 3);
  });

  it('gives back a partial acquisition at once, without announcing a release', async () => {
    const { store, direct, key, prefix, servers } = await quorum();
    const heard: string[] = [];
    const listener = quiet(harness.client(servers[1].url));
    listener.on('message', (_channel: string, name: string) => heard.push(name));
    await listener.subscribe(`${prefix}released`);
    // Another node holds servers 0 and 2; server 1 is free.
    await direct[0].set(key('job', 'lock'), 'other#1', 'PX', 10_000);
    await direct[2].set(key('job', 'lock'), 'other#1', 'PX', 10_000);

    const refused = await store.acquire('job', newLease('a', 5000), 10_000);
    expect(refused).toMatchObject({ acquired: false, holder: 'other' });
    expect(refused.acquired === false && refused.ttlMs).toBeGreaterThan(5000);
    const dropped = () => direct[1].exists(key('job', 'lock')).then((n) => n === 0);
    // Well before the 10 s lease could have ended by itself.
    await waitFor(dropped, 'server 1 to drop the partial lease', 2000);

    // A split with a server down: the acquire cannot tell, and still drops what it took.
    await direct[2].del(key('job', 'lock'));
    await servers[2].kill();
    await expect(store.acquire('job', newLease('a', 5000), 10_000)).rejects.toThrow(
      KettleQuorumError,
    );
    await waitFor(dropped, 'server 1 to drop the partial lease again', 2000);
    await sleep(50);
    expect(heard).toEqual([]);
  });

  it('keeps terms rising across hand-overs when a different majority answers each time', async () => {
    const { store, servers, direct, key, reaches } = await quorum();
    // Server 0 ran ahead (say, it saw hand-overs the others missed while they were cut off).
    await direct[0].set(key('job', 'term'), String(AHEAD));

    await servers[2].kill(); // majority {0, 1}
    const first = newLease('a', 5000);
    const t1 = termOf(await store.acquire('job', first, 5000));
    expect(t1).toBe(AHEAD + 1);
    await store.release('job', first);

    await servers[2].start(); // back empty: its term starts again from the clock
    await reaches([1, 2]);
    await servers[0].kill(); // majority {1, 2}: a plain INCR would give about 1.7e12 here
    const second = newLease('b', 5000);
    const t2 = termOf(await store.acquire('job', second, 5000));
    expect(t2).toBeGreaterThan(t1);
    await waitFor(
      async () => Number(await direct[2].get(key('job', 'term'))) === t2,
      'server 2 raised to the term of the majority',
    );
    await store.release('job', second);

    await servers[0].start();
    await reaches([0, 2]);
    await servers[1].kill(); // majority {0, 2}: server 0 is empty now, server 2 was raised
    const t3 = termOf(await store.acquire('job', newLease('c', 5000), 5000));
    expect(t3).toBeGreaterThan(t2);
  });

  it('marks no run on a server when the majority does not confirm the lease', async () => {
    const { store, direct, key } = await quorum();
    const a = newLease('a', 5000);
    // Only server 0 still holds `a` (a lease the others lost): the single-server claim would
    // have marked a run there, and this node would wait an interval for nothing later.
    await direct[0].set(key('job', 'lock'), a, 'PX', 5000);
    await direct[1].set(key('job', 'lock'), 'other#1', 'PX', 5000);
    await direct[2].set(key('job', 'lock'), 'other#1', 'PX', 5000);
    expect(await store.claimRun('job', a, 1000, 5000)).toEqual({ outcome: 'not-holder' });
    expect(await direct[0].exists(key('job', 'lastrun'))).toBe(0);
  });

  it('frees its copies when a claim finds the lease gone from a majority between check and mark', async () => {
    const servers = [await harness.server(), await harness.server(), await harness.server()];
    // Servers 0 and 1 far away: the mark reaches them well after the check did.
    const proxies = await Promise.all(servers.slice(0, 2).map((s) => TcpProxy.start(s.port)));
    for (const proxy of proxies) {
      proxy.delayMs = 300;
      harness.defer(() => proxy.close());
    }
    const prefix = `test:${randomBytes(4).toString('hex')}:`;
    const store = new QuorumStore({
      connections: [...proxies.map((p) => ({ url: p.url })), { url: servers[2].url }],
      keyPrefix: prefix,
    });
    harness.defer(() => store.close());
    const direct = servers.map((server) => quiet(harness.client(server.url)));
    const lock = `${prefix}{job}:lock`;
    await waitFor(() => store.connected, 'the store connected');
    const a = newLease('a', 5000);
    for (const redis of direct) await redis.set(lock, a, 'PX', 5000);

    const claim = store.claimRun('job', a, 1000, 20_000);
    // The check renewed the lease on servers 0 and 1; its answers and the mark are still on the way.
    await waitFor(
      async () =>
        (await Promise.all(direct.slice(0, 2).map((r) => r.pttl(lock)))).every((t) => t > 6000),
      'the check on servers 0 and 1',
    );
    await Promise.all(direct.slice(0, 2).map((r) => r.del(lock))); // say, both restarted empty
    expect(await claim).toEqual({ outcome: 'not-holder' });
    // Server 2 still holds the lease the check extended by 20 s: the store frees it, as renew does.
    await waitFor(async () => (await direct[2].exists(lock)) === 0, 'server 2 freed', 3000);
  });

  it('claims again a slot its term marked on a minority only; another term that reads the mark does not', async () => {
    const { store, direct, prefix, servers } = await quorum();
    const a = newLease('a', 5000);
    const acquired = await store.acquire('job', a, 5000);
    const term = termOf(acquired);
    const slot = Date.now() - 100;
    // A mark that reached server 0 only: the claimer got no majority, and did not run the slot.
    const slotKey = `${prefix}{job}:slot`;
    await direct[0].hset(slotKey, 'slot', String(slot), 'term', String(term));
    const options = { term, graceMs: 5000, catchUp: true, keepMs: 60_000 };
    // Another term runs it only if its majority misses server 0 (allowed: the slot never ran).
    // Server 1 hung, the majority that answers is servers 0 and 2, so the mark is read.
    servers[1].pause();
    harness.defer(() => servers[1].resume());
    expect(
      await store.claimSlot('job', a, slot, 5000, { ...options, term: term + 1 }),
    ).toMatchObject({ outcome: 'already-ran', lastSlotMs: slot });
    servers[1].resume();
    // The same term runs it, whichever servers answer first.
    expect(await store.claimSlot('job', a, slot, 5000, options)).toMatchObject({ outcome: 'run' });
    await waitFor(
      async () =>
        (await Promise.all(direct.map((server) => server.hget(slotKey, 'slot')))).every(
          (value) => value === String(slot),
        ),
      'the slot marked on every server',
    );
  });

  it('hears a release from every server, and counts a majority as connected', async () => {
    const { store, servers } = await quorum();
    const heard: string[] = [];
    const unsubscribe = store.onReleased((name) => heard.push(name), 'job');
    await waitFor(async () => {
      const a = newLease('a', 5000);
      await store.acquire('job', a, 5000);
      await store.release('job', a);
      await sleep(20);
      return heard.length >= 3;
    }, 'a release message from each server');
    expect(new Set(heard)).toEqual(new Set(['job']));
    unsubscribe();

    let reconnected = 0;
    store.onConnected(() => reconnected++);
    await servers[0].kill();
    expect(store.connected).toBe(true);
    await servers[1].kill();
    await waitFor(() => !store.connected, 'a minority connected');
    await servers[1].start();
    await waitFor(() => store.connected, 'a majority again');
    expect(reconnected).toBe(1);
  });
});

describe('KettleModule on a quorum', () => {
  const LEASE = 1500;

  it('elects one master; with two servers down it steps down before its lease could end anywhere', async () => {
    const servers = [await harness.server(), await harness.server(), await harness.server()];
    const options = {
      redis: servers.map((server) => server.url),
      keyPrefix: `test:${randomBytes(4).toString('hex')}:`,
      interval: 200,
      allowShortInterval: true,
      leaseTtl: LEASE,
    };
    const nodes = [
      await harness.node({ ...options, nodeId: 'n1' }),
      await harness.node({ ...options, nodeId: 'n2' }),
    ];
    const masters = () => nodes.filter((node) => node.kettle.isMaster('secure'));
    await waitFor(() => masters().length === 1, 'a master');

    // One server down: the master keeps its lease and runs on.
    await servers[0].kill();
    const [master] = masters();
    const runs = master.runs.count;
    await waitFor(() => master.runs.count > runs + 2, 'runs with one server down');
    expect(masters()).toEqual([master]);

    // Two down: watch the lease on the last server while the master gives up.
    const survivor = quiet(harness.client(servers[2].url));
    const lock = `${options.keyPrefix}{secure}:lock`;
    let leaseEndsAt = 0;
    let stepDownAt = 0;
    const watching = (async () => {
      while (!stepDownAt) {
        const ttl = await survivor.pttl(lock);
        if (ttl > 0) leaseEndsAt = Math.max(leaseEndsAt, Date.now() + ttl);
        await sleep(5);
      }
    })();
    await servers[1].kill();
    await waitFor(() => {
      if (master.kettle.isMaster('secure')) return false;
      stepDownAt = Date.now();
      return true;
    }, 'the master to step down');
    await watching;
    expect(leaseEndsAt).toBeGreaterThan(0);
    expect(stepDownAt).toBeLessThan(leaseEndsAt);
    expect(masters()).toEqual([]);
  });
});

describe('the redis option as a quorum', () => {
  it('takes an array of three or more servers', () => {
    const urls = ['redis://a:6379', 'redis://b:6379', { host: 'c', port: 6380 }];
    expect(resolveKettleOptions({ redis: urls }, {}).store).toEqual({
      kind: 'quorum',
      connections: [{ url: 'redis://a:6379' }, { url: 'redis://b:6379' }, { options: urls[2] }],
    });
  });

  it.each([
    [
      'fewer than three servers',
      ['redis://a', 'redis://b'],
      /"redis": an array; expected .*at least 3.*got 2/,
    ],
    [
      'a server twice',
      ['redis://a:6379', 'redis://A', 'redis://b'],
      /"redis\[1\]": "redis:\/\/A"; expected a server not listed before; it is a:6379, as redis\[0\] is/,
    ],
    [
      'localhost and 127.0.0.1',
      [{ port: 7000 }, 'redis://127.0.0.1:7000', 'redis://b'],
      /"redis\[1\]"/,
    ],
    ['a bad entry', ['redis://a', 'redis://b', 'http://c'], /"redis\[2\]": "http:\/\/c"/],
    ['a number', ['redis://a', 6379, 'redis://c'], /"redis\[1\]": 6379/],
  ])('rejects %s, naming the entry', (_, redis, message) => {
    expect(() => resolveKettleOptions({ redis } as never, {})).toThrow(message);
  });

  it('never shows a password', () => {
    const redis = ['redis://:hunter2@a', 'redis://:hunter2@a', 'redis://c'];
    expect(() => resolveKettleOptions({ redis }, {})).toThrow(/redis:\/\/:\*\*\*@a/);
    expect(() => resolveKettleOptions({ redis }, {})).not.toThrow(/hunter2/);
  });
});
