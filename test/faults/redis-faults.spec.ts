import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '#tools/free-port.js';
import { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { sleep, waitFor } from '#tools/wait.js';
import { monotonicNow } from '#tools/clock.js';
import { uniquePrefix } from '../support/nodes.js';
import { FaultCluster } from './cluster.js';
import { checkInvariants, type FaultEvent } from './invariants.js';

const INTERVAL = 300;
const LEASE = 1500;
const RETRY = LEASE / 3;

/** Faults between the nodes and Redis, and of Redis itself. Nodes are separate processes. */
describe('Redis and network faults', () => {
  let server: RedisServer | undefined;
  let proxy: TcpProxy | undefined;
  let admin: Redis | undefined;
  let cluster: FaultCluster;
  afterEach(async () => {
    await cluster?.stop();
    admin?.disconnect();
    await proxy?.close();
    await server?.kill();
    [server, proxy, admin] = [undefined, undefined, undefined];
  });

  function nodes(redisUrl: string, elections?: string[]): FaultCluster {
    cluster = new FaultCluster({
      redisUrl,
      keyPrefix: uniquePrefix(),
      intervalMs: INTERVAL,
      leaseMs: LEASE,
      elections,
    });
    return cluster;
  }

  async function expectSafe() {
    const exits = await cluster.stop();
    // What escaped, by name, so that a failure shows where it came from.
    expect(
      cluster.events.filter((e) => e.ev === 'unhandled').map((e) => `${e.node}: ${e.error}`),
    ).toEqual([]);
    if (process.env.FAULTS_DEBUG) console.log(cluster.timeline());
    expect(checkInvariants(cluster.events)).toMatchObject({
      doubleMasters: 0,
      termRegressions: 0,
      staleWritesAccepted: 0,
      unhandledRejections: 0,
    });
    expect(exits.filter((exit) => !exit.exitedAlone)).toEqual([]);
  }

  /** The isolated master gave up before anyone else took over: the margin, in ms, must be positive. */
  function stepDownMargin(oldMaster: string, after: number): number {
    const revoked = cluster.events.find(
      (e) => e.node === oldMaster && e.ev === 'revoked' && e.t > after,
    )!;
    const elected = cluster.events.find(
      (e) => e.node !== oldMaster && e.ev === 'elected' && e.t > after,
    )!;
    expect(revoked.reason).toBe('expired');
    return elected.t - revoked.t;
  }

  /** Starts `a` behind a proxy and b, c direct; `a` leads. */
  async function isolatedMaster(): Promise<TcpProxy> {
    server = await RedisServer.start();
    proxy = await TcpProxy.start(server.port);
    nodes(server.url);
    await cluster.start(['a'], { REDIS_URL: proxy.url });
    await waitFor(() => cluster.master() === 'a', 'a to lead');
    await cluster.start(['b', 'c']);
    return proxy;
  }

  it('a partitioned master steps down before another node takes over; healed, one master', async () => {
    const link = await isolatedMaster();
    const cutAt = monotonicNow();
    link.partition();
    const next = await cluster.nextMaster(cutAt, 'a', LEASE * 3);
    expect(next.t - cutAt).toBeLessThan(LEASE + RETRY);
    expect(stepDownMargin('a', cutAt)).toBeGreaterThan(0);
    link.heal();
    await sleep(LEASE);
    expect(cluster.master()).toBe(next.node);
    await expectSafe();
  });

  it('latency below the renew period keeps the master; latency above it makes it step down in time', async () => {
    const link = await isolatedMaster();
    link.delayMs = 100;
    const slowAt = monotonicNow();
    await sleep(LEASE * 2);
    expect(cluster.master()).toBe('a');
    expect(cluster.has('a', 'revoked', slowAt)).toBe(false);

    link.delayMs = RETRY * 2;
    const laggyAt = monotonicNow();
    await cluster.nextMaster(laggyAt, 'a', LEASE * 4);
    expect(stepDownMargin('a', laggyAt)).toBeGreaterThan(0);
    link.delayMs = 0;
    await expectSafe();
  });

  it('CLIENT KILL of the master connection: it reconnects and the cluster keeps one master', async () => {
    server = await RedisServer.start();
    admin = new Redis(server.port);
    nodes(server.url);
    await cluster.start(['a', 'b', 'c']);
    const master = await waitFor(() => cluster.master(), 'a master');
    const list = (await admin.client('LIST')) as string;
    const id = new RegExp(`id=(\\d+) .*name=kettle:${master} `).exec(list)?.[1];
    expect(id).toBeDefined();
    const killedAt = monotonicNow();
    await admin.client('KILL', 'ID', id!);
    // Back under a new connection id, and runs go on.
    await waitFor(async () => {
      const again = new RegExp(`id=(\\d+) .*name=kettle:${master} `).exec(
        (await admin!.client('LIST')) as string,
      );
      return again && again[1] !== id;
    }, 'the node to reconnect');
    await waitFor(
      () => cluster.events.some((e) => e.ev === 'start' && e.t > killedAt),
      'a run after the kill',
    );
    expect(cluster.master()).toBeDefined();
    await expectSafe();
  });

  it('CLIENT PAUSE of every client past the lease: the master steps down; after it, one master', async () => {
    server = await RedisServer.start();
    admin = new Redis(server.port);
    nodes(server.url);
    await cluster.start(['a', 'b', 'c']);
    const master = await waitFor(() => cluster.master(), 'a master');
    const pausedAt = monotonicNow();
    await admin.client('PAUSE', LEASE * 2, 'ALL');
    await waitFor(
      () => cluster.has(master, 'revoked', pausedAt),
      'the master to step down',
      LEASE * 2,
    );
    const revoked = cluster.events.find(
      (e) => e.node === master && e.ev === 'revoked' && e.t > pausedAt,
    )!;
    // At its lease deadline (at most a lease after its last renewal), give or take a late timer.
    expect(revoked.t - pausedAt).toBeLessThan(LEASE + 250);
    await waitFor(() => cluster.master(), 'one master after the pause', LEASE * 2 + LEASE + RETRY);
    await expectSafe();
  });

  it('Redis killed and restarted empty: one master again soon after, with a higher term', async () => {
    server = await RedisServer.start();
    nodes(server.url);
    await cluster.start(['a', 'b', 'c']);
    const first = await waitFor(() => cluster.master(), 'a master');
    await server.kill();
    await waitFor(() => cluster.master() === undefined, 'the master to step down', LEASE * 2);
    const restartedAt = monotonicNow();
    await server.start();
    const next = await cluster.nextMaster(restartedAt, '', LEASE * 2 + RETRY);
    const lastTerm = cluster.events
      .filter((e) => e.ev === 'elected' && e.node === first && e.t < restartedAt)
      .at(-1)!;
    expect(next.term).toBeGreaterThan(lastTerm.term!);
    await expectSafe();
  });

  it('Redis unreachable at boot: nodes start, then elect once it is up', async () => {
    const port = await freePort();
    nodes(`redis://127.0.0.1:${port}`);
    await cluster.start(['a', 'b', 'c']);
    await sleep(RETRY);
    expect(cluster.master()).toBeUndefined();
    const upAt = monotonicNow();
    server = await RedisServer.start({ port });
    await cluster.nextMaster(upAt, '', LEASE * 2 + RETRY);
    await waitFor(() => cluster.events.some((e) => e.ev === 'start' && e.t > upAt), 'a run');
    await expectSafe();
  });

  it('a hung job in one election leaves the other elections of the node running on time', async () => {
    server = await RedisServer.start();
    nodes(server.url, ['stuck', 'healthy']);
    await cluster.start(['a', 'b'], { HANG: 'stuck' });
    await waitFor(() => cluster.master('stuck') && cluster.master('healthy'), 'a master of each');
    // Its first run is the one that hangs; it may start a moment after the election.
    const stuckStart = (e: FaultEvent) => e.ev === 'start' && e.election === 'stuck';
    await waitFor(() => cluster.events.some(stuckStart), 'the stuck job to start');
    const from = monotonicNow();
    await sleep(INTERVAL * 8);
    const healthyRuns = cluster.events.filter(
      (e) => e.ev === 'start' && e.election === 'healthy' && e.t > from,
    );
    const stuckRuns = cluster.events.filter((e) => stuckStart(e) && e.t > from);
    expect(healthyRuns.length).toBeGreaterThanOrEqual(5);
    expect(stuckRuns).toEqual([]);
    expect(cluster.master('stuck')).toBeDefined();
    await expectSafe();
  });
});
