import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger, type KettleStore, MemoryStore } from '../../lib/core/index.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const LEASE = 6000;

/** Every line a node logs, with its level. */
function recording(lines: string[]): KettleLogger {
  return {
    log: (m) => void lines.push(`log ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    error: (m) => void lines.push(`error ${m}`),
    debug() {},
  };
}

/** Once `follower`'s crash watch has seen a holder it waits on subscribed: it may take it over. */
function sawHolderAlive(follower: Kettle): Promise<unknown> {
  const watch = (
    follower as unknown as { crashWatch: { waiting: Map<string, { seenOn?: number }> } }
  ).crashWatch;
  return waitFor(
    () => [...watch.waiting.values()].some((entry) => entry.seenOn !== undefined),
    `${follower.nodeId} to see the holder alive`,
  );
}

describe('crashDetection', () => {
  const kettles: Kettle[] = [];
  afterEach(async () => {
    await Promise.all(kettles.splice(0).map((kettle) => kettle.stop()));
  });

  function node(nodeId: string, keyPrefix: string, lines: string[] = [], store?: KettleStore) {
    const kettle = new Kettle({
      ...(store ? { store } : { redis: SHARED_REDIS_URL }),
      keyPrefix,
      nodeId,
      interval: 1000,
      leaseTtl: LEASE,
      crashDetection: 'connection',
      logger: recording(lines),
    });
    kettle.join('job', { run: () => undefined });
    kettles.push(kettle);
    return kettle;
  }

  it("'connection': a master whose connections close is followed within polls, not its lease", async () => {
    const prefix = uniquePrefix();
    const lines: string[] = [];
    const a = node('a', prefix);
    a.start();
    await waitFor(() => a.isMaster('job'), 'a to lead');
    const b = node('b', prefix, lines);
    b.start();
    // A follower takes over only a holder it saw alive.
    await sawHolderAlive(b);
    expect(b.isMaster('job')).toBe(false);

    // As a crash: every connection of a's closes at once, and nothing is released.
    const closedAt = performance.now();
    await a.store.close(0);
    await waitFor(() => b.isMaster('job'), 'b to take over', LEASE);
    const tookMs = performance.now() - closedAt;
    expect(tookMs).toBeLessThan(LEASE / 3);
    expect(b.stats('job')?.takeovers).toBe(1);
    expect(lines).toContain(
      'log Kettle: the connection of node a closed; taking over its election',
    );
    expect(lines.filter((line) => line.includes('crash detection by connection'))).toHaveLength(1);
  });

  it("'lease' (the default) follows such a master only once its lease ran out", async () => {
    const prefix = uniquePrefix();
    const make = (nodeId: string) => {
      const kettle = new Kettle({
        redis: SHARED_REDIS_URL,
        keyPrefix: prefix,
        nodeId,
        interval: 1000,
        leaseTtl: 2000,
        logger: recording([]),
      });
      kettle.join('job', { run: () => undefined });
      kettles.push(kettle);
      kettle.start();
      return kettle;
    };
    const a = make('a');
    await waitFor(() => a.isMaster('job'), 'a to lead');
    const b = make('b');
    const closedAt = performance.now();
    await a.store.close(0);
    await waitFor(() => b.isMaster('job'), 'b to take over', 5000);
    // Its lease was renewed at most a third of it before the close.
    expect(performance.now() - closedAt).toBeGreaterThan(2000 / 2);
    expect(b.stats('job')?.takeovers).toBe(0);
  });

  it('leads after a lease at most when its subscriber cannot connect, with leases of no token', async () => {
    const server = await RedisServer.start();
    try {
      // Room for the admin connection and the commands: the subscriber is turned away.
      await server.admin.config('SET', 'maxclients', '2');
      const keyPrefix = uniquePrefix();
      const kettle = new Kettle({
        redis: server.url,
        keyPrefix,
        nodeId: 'a',
        leaseTtl: 2000,
        crashDetection: 'connection',
        logger: recording([]),
      });
      kettle.join('job');
      kettles.push(kettle);
      const startedAt = performance.now();
      kettle.start();
      await waitFor(() => kettle.isMaster('job'), 'a to lead', 10_000);
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(2000 - 50);
      const lease = await server.admin.get(`${keyPrefix}{job}:lock`);
      expect(lease).not.toContain('@');
    } finally {
      await server.kill();
    }
  });

  it.each([
    ['SUBSCRIBE', 'a server or proxy without subscriptions'],
    ['PUBSUB', 'PUBSUB refused in scripts'],
  ])('falls back to the lease, and leads, where the server refuses %s (%s)', async (command) => {
    const server = await RedisServer.start({ args: ['--rename-command', command, '""'] });
    try {
      const lines: string[] = [];
      const kettle = new Kettle({
        redis: server.url,
        keyPrefix: uniquePrefix(),
        nodeId: 'a',
        leaseTtl: LEASE,
        crashDetection: 'connection',
        logger: recording(lines),
      });
      kettle.join('job');
      kettles.push(kettle);
      kettle.start();
      await waitFor(() => kettle.isMaster('job'), 'a to lead', LEASE / 2);
      expect(lines.filter((line) => line.startsWith('warn Kettle: crash detection'))).toEqual([
        expect.stringMatching(/falls back to the lease .*: ERR unknown (redis )?command/i),
      ]);
    } finally {
      await kettles.pop()?.stop();
      await server.kill();
    }
  });

  it('forgets an election that leaves while its acquire is on its way', async () => {
    const prefix = uniquePrefix();
    const holder = node('holder', prefix);
    const names = Array.from({ length: 50 }, (_, i) => `tenant-${i}`);
    for (const name of names) holder.join(name);
    holder.start();
    await waitFor(() => names.every((name) => holder.isMaster(name)), 'the holder to lead all');
    const other = node('other', prefix);
    other.start();
    const watch = (other as unknown as { crashWatch: { tokenOf: Map<unknown, string> } })
      .crashWatch;
    await waitFor(() => watch.tokenOf.size === 1, "the other's job to wait on the holder");
    // Each leaves right after its acquire is sent, as tenants by the thousand come and go.
    const { store } = other;
    const acquire = store.acquire.bind(store);
    const leaving: Promise<void>[] = [];
    store.acquire = (name, ...rest) => {
      const answer = acquire(name, ...rest);
      if (name.startsWith('tenant-')) leaving.push(other.leave(name));
      return answer;
    };
    for (const name of names) other.join(name);
    await waitFor(() => leaving.length === names.length, 'every acquire sent');
    await Promise.all(leaving);
    // Only 'job' still waits on the holder.
    expect(watch.tokenOf.size).toBe(1);
  });

  it("takes no live master's lease over when the address moves to a server it is not on yet", async () => {
    const from = await RedisServer.start({ args: ['--repl-diskless-sync-delay', '0'] });
    const to = await RedisServer.start({ args: ['--repl-diskless-sync-delay', '0'] });
    const proxy = await TcpProxy.start(from.port);
    try {
      const prefix = uniquePrefix();
      const make = (nodeId: string) => {
        const kettle = new Kettle({
          redis: proxy.url,
          keyPrefix: prefix,
          nodeId,
          leaseTtl: 3000,
          crashDetection: 'connection',
          logger: recording([]),
        });
        kettles.push(kettle);
        return kettle;
      };
      // m writes rarely (a long lease); f often (a short one): f's connection moves first.
      const m = make('m');
      m.join('long', { leaseTtl: 30_000, interval: 30_000 });
      m.start();
      await waitFor(() => m.isMaster('long'), 'm to lead long');
      const f = make('f');
      f.join('short', { interval: 1000 });
      f.join('long', { leaseTtl: 30_000, interval: 30_000 });
      f.start();
      await waitFor(() => f.isMaster('short'), 'f to lead short');
      await to.replicaOf(from);
      await to.synced();
      await sawHolderAlive(f);

      // Managed Redis fails over behind its address: the old primary turns replica of the new.
      await to.replicaOf();
      await from.replicaOf(to);
      proxy.retarget(to.port);
      await new Promise((resolve) => setTimeout(resolve, 6000));
      expect(f.stats('long')?.takeovers).toBe(0);
      expect(m.isMaster('long')).toBe(true);
      expect(f.isMaster('short')).toBe(true);
    } finally {
      await Promise.all(kettles.splice(0).map((kettle) => kettle.stop()));
      await proxy.close();
      await from.kill();
      await to.kill();
    }
  }, 30_000);

  it('a master cut off as Redis drops its connections steps down within half a poll', async () => {
    // Its sidecar proxy dies: Redis sees the connections close, and the master cannot reconnect.
    const proxy = await TcpProxy.start(Number(new URL(SHARED_REDIS_URL).port || 6379));
    try {
      const prefix = uniquePrefix();
      const m = new Kettle({
        redis: proxy.url,
        keyPrefix: prefix,
        nodeId: 'm',
        interval: 1000,
        leaseTtl: LEASE,
        crashDetection: 'connection',
        logger: recording([]),
      });
      m.join('job', { run: () => undefined });
      kettles.push(m);
      const stepDowns: number[] = [];
      m.onChange((change) => !change.isMaster && stepDowns.push(performance.now()));
      m.start();
      await waitFor(() => m.isMaster('job'), 'm to lead');
      const f = node('f', prefix);
      f.start();
      await sawHolderAlive(f);

      const cutAt = performance.now();
      await proxy.close();
      await waitFor(() => f.isMaster('job'), 'f to take over', LEASE);
      await waitFor(() => stepDowns.length > 0, 'm to step down', LEASE);
      // Not at its renewal deadline (four fifths of the lease after its last renewal).
      expect(stepDowns[0]! - cutAt).toBeLessThan(1000);
      expect(f.stats('job')?.takeovers).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('falls back to the lease where the store has no signal, and says so once', async () => {
    const lines: string[] = [];
    // The user's own store, without a connection signal.
    const prefix = uniquePrefix();
    const a = node('a', prefix, lines, new MemoryStore(prefix));
    a.start();
    await waitFor(() => a.isMaster('job'), 'a to lead');
    expect(lines.filter((line) => line.includes('crash detection'))).toEqual([
      'warn Kettle: crash detection falls back to the lease (a crashed master is replaced once its lease runs out): the store (MemoryStore) has no connection signal',
    ]);
  });
});
