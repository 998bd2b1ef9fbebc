import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { sleep, waitFor } from '#tools/wait.js';
import { RedisStore } from '../../lib/index.js';
import type { ConnectionSignal } from '../../lib/core/store/kettle-store.interface.js';
import { connectionOf, newLease } from '../../lib/core/store/lease.js';
import { uniquePrefix } from '../support/nodes.js';

const TTL = 10_000;
const INTERVAL = 1000;

/**
 * crashDetection 'connection' in RedisStore: a lease that carries its holder's connection token
 * is taken over once no connection of that holder listens on the token's channel, and only then.
 * A private server, whose ACL the tests change.
 */
describe('RedisStore connection signal', () => {
  let server: RedisServer;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await server?.kill();
  });

  /** A store whose signal the probe found working, as crashDetection 'connection' opens it. */
  async function signalling(keyPrefix: string, user?: string) {
    const store = new RedisStore({
      connection: {
        url: user ? server.url.replace('redis://', `redis://${user}:pw@`) : server.url,
      },
      keyPrefix,
      clientName: user,
      crashDetection: true,
    });
    stores.push(store);
    const signal = store.connectionSignal!;
    const reason = await probed(signal);
    return { store, signal, reason };
  }

  /** The probe's answer once it has one (it rejects while the store cannot tell yet). */
  async function probed(signal: ConnectionSignal): Promise<string | undefined> {
    let answer: { reason: string | undefined } | undefined;
    await waitFor(async () => {
      answer = await signal.probe().then(
        (reason) => ({ reason }),
        () => undefined,
      );
      return answer !== undefined;
    }, 'the probe to answer');
    return answer!.reason;
  }

  /** As the watch does: a takeover on the connection that a check was answered on. */
  async function takeOver(signal: ConnectionSignal, lease: string, ttlMs: number) {
    const { connection } = await signal.check([]);
    return signal.takeOver('job', lease, ttlMs, connection);
  }

  async function silent(signal: ConnectionSignal, tokens: string[]): Promise<string[]> {
    const { live } = await signal.check(tokens);
    return tokens.filter((token) => !live.has(token));
  }

  function leaseOf(signal: ConnectionSignal, nodeId: string): string {
    const token = signal.token();
    expect(token).toMatch(/^[0-9a-f]{16}$/);
    return newLease(nodeId, TTL, token);
  }

  it('takes over the lease of a holder whose connections closed, and no other', async () => {
    const keyPrefix = uniquePrefix();
    const a = await signalling(keyPrefix);
    const b = await signalling(keyPrefix);
    expect([a.reason, b.reason]).toEqual([undefined, undefined]);
    const leaseA = leaseOf(a.signal, 'a');
    const won = await a.store.acquire('job', leaseA, TTL);
    if (!won.acquired) throw new Error('a did not acquire');
    // A holder that lives: held, and the answer carries its lease (the watch follows its token).
    const leaseB = leaseOf(b.signal, 'b');
    expect(await takeOver(b.signal, leaseB, TTL)).toMatchObject({
      acquired: false,
      holder: 'a',
      lease: leaseA,
    });
    expect(await silent(b.signal, [connectionOf(leaseA)!])).toEqual([]);

    await a.store.close();
    await waitFor(
      async () => (await silent(b.signal, [connectionOf(leaseA)!])).length === 1,
      'the server to drop the closed subscription',
    );
    // A plain acquire never takes a held lease, whoever holds it.
    expect(await b.store.acquire('job', leaseB, TTL)).toMatchObject({ acquired: false });
    const taken = await takeOver(b.signal, leaseB, TTL);
    expect(taken).toMatchObject({ acquired: true, tookOver: true });
    if (taken.acquired) expect(taken.term).toBeGreaterThan(won.term);
    expect(await b.store.holder('job')).toBe('b');
  });

  it('takes nothing over on a connection newer than the check that found the holder silent', async () => {
    const keyPrefix = uniquePrefix();
    const a = await signalling(keyPrefix);
    const b = await signalling(keyPrefix);
    const leaseA = leaseOf(a.signal, 'a');
    await a.store.acquire('job', leaseA, TTL);
    await a.store.close();
    const { connection, live } = await b.signal.check([connectionOf(leaseA)!]);
    expect(live.size).toBe(0);
    // b's connection comes back (a restart, a failover): what it found before says nothing now.
    await server.admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await waitFor(
      async () =>
        (await b.signal.check([]).catch(() => undefined))?.connection !== connection &&
        b.store.connected,
      'b to reconnect',
    );
    const leaseB = leaseOf(b.signal, 'b');
    expect(await b.signal.takeOver('job', leaseB, TTL, connection)).toMatchObject({
      acquired: false,
      holder: 'a',
    });
    expect(await takeOver(b.signal, leaseB, TTL)).toMatchObject({ acquired: true, tookOver: true });
  });

  it('never takes over a lease that carries no token: its holder is followed after its lease', async () => {
    const keyPrefix = uniquePrefix();
    const { store, signal } = await signalling(keyPrefix);
    // A node in 'lease' mode, or of a version before it: nobody listens for it, yet it may live.
    await store.acquire('job', newLease('old', TTL), TTL);
    expect(await takeOver(signal, leaseOf(signal, 'b'), TTL)).toMatchObject({
      acquired: false,
      holder: 'old',
    });
  });

  it('takes a free lease as acquire does, without calling it a takeover', async () => {
    const { signal } = await signalling(uniquePrefix());
    const result = await takeOver(signal, leaseOf(signal, 'b'), TTL);
    expect(result).toMatchObject({ acquired: true });
    expect(result).not.toHaveProperty('tookOver');
  });

  it("goes on from the old holder's last slot after a takeover: none runs twice, none is skipped", async () => {
    const keyPrefix = uniquePrefix();
    const a = await signalling(keyPrefix);
    const b = await signalling(keyPrefix);
    const leaseA = leaseOf(a.signal, 'a');
    await a.store.acquire('job', leaseA, TTL);
    // A lease of more than two intervals: only a lease with a token has its claims recorded.
    const first = await a.store.claimRun('job', leaseA, INTERVAL, TTL);
    if (first.outcome !== 'run') throw new Error(`a could not claim: ${first.outcome}`);
    await a.store.close();
    const leaseB = leaseOf(b.signal, 'b');
    await waitFor(async () => (await takeOver(b.signal, leaseB, TTL)).acquired, 'the takeover');
    const early = await b.store.claimRun('job', leaseB, INTERVAL, TTL);
    if (early.outcome !== 'wait') throw new Error(`b claimed at once: ${early.outcome}`);
    await sleep(early.waitMs);
    expect(await b.store.claimRun('job', leaseB, INTERVAL, TTL)).toMatchObject({
      outcome: 'run',
      slotMs: first.slotMs! + INTERVAL,
    });
  });

  describe('under an ACL', () => {
    const user = `signal-${process.pid}`;
    const allow = (channels: string) =>
      server.admin.call('ACL', 'SETUSER', user, 'reset', 'on', '>pw', '~*', channels, '+@all');
    afterAll(() => server.admin.call('ACL', 'DELUSER', user));

    it('falls back to the lease when the channel is refused, and says why', async () => {
      const keyPrefix = uniquePrefix();
      await allow(`&${keyPrefix}released`);
      const { signal, reason } = await signalling(keyPrefix, user);
      expect(reason).toMatch(/NOPERM/);
      expect(signal.token()).toBeUndefined();
    });

    it('goes on claiming when the server refuses its channel, and is taken over', async () => {
      const keyPrefix = uniquePrefix();
      await allow('allchannels');
      const a = await signalling(keyPrefix, user);
      const b = await signalling(keyPrefix);
      expect(a.reason).toBeUndefined();
      const leaseA = leaseOf(a.signal, 'a');
      await a.store.acquire('job', leaseA, TTL);
      await silent(b.signal, [connectionOf(leaseA)!]);
      // Redis drops a subscriber whose channel an ACL change takes away; it cannot subscribe again,
      // and a node alone would never run again if its claims waited for it.
      await allow(`&${keyPrefix}released`);
      await waitFor(() => a.signal.token() === undefined, 'the signal to go down');
      await waitFor(
        async () =>
          (await a.store.claimRun('job', leaseA, INTERVAL, TTL).catch(() => undefined))?.outcome ===
          'run',
        'a claim to run',
      );
      // A follower that saw it alive takes it over; the holder's next renewal says so.
      const leaseB = leaseOf(b.signal, 'b');
      expect(await takeOver(b.signal, leaseB, TTL)).toMatchObject({
        acquired: true,
        tookOver: true,
      });
      expect(await a.store.renew('job', leaseA, TTL)).toBe(false);
    });
  });

  it('refuses claims while its subscriber is down, and is not taken over once it is back', async () => {
    const keyPrefix = uniquePrefix();
    const a = await signalling(keyPrefix);
    const b = await signalling(keyPrefix);
    const leaseA = leaseOf(a.signal, 'a');
    await a.store.acquire('job', leaseA, TTL);
    // Every subscriber is dropped, and no new connection is let in: they cannot come back.
    const clients = Number(/connected_clients:(\d+)/.exec(await server.admin.info('clients'))![1]);
    await server.admin.config('SET', 'maxclients', String(clients - 2));
    try {
      await server.admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await waitFor(() => a.signal.token() === undefined, 'the signal to go down');
      await expect(a.store.claimRun('job', leaseA, INTERVAL, TTL)).rejects.toThrow(
        /subscriber connection is down/,
      );
      // Renewals go on: the lease is the holder's until someone takes it.
      expect(await a.store.renew('job', leaseA, TTL)).toBe(true);
      expect(await silent(b.signal, [connectionOf(leaseA)!])).toEqual([connectionOf(leaseA)]);
    } finally {
      await server.admin.config('SET', 'maxclients', '10000');
    }
    await waitFor(() => a.signal.token() !== undefined, 'the signal to come back');
    expect(await takeOver(b.signal, leaseOf(b.signal, 'b'), TTL)).toMatchObject({
      acquired: false,
      holder: 'a',
    });
    expect(await a.store.claimRun('job', leaseA, INTERVAL, TTL)).toMatchObject({ outcome: 'run' });
  });
});
