import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { waitFor } from '#tools/wait.js';
import { monotonicNow } from '#tools/clock.js';
import { holderOf } from '../../lib/core/store/lease.js';
import { uniquePrefix } from '../support/nodes.js';
import { FaultCluster } from './cluster.js';
import type { FaultEvent } from './invariants.js';
import { checkInvariants } from './invariants.js';

const INTERVAL = 300;
const LEASE = 1500;
const RENEW = LEASE / 3;
/** What the move may cost at most: a master again within this of it. */
const FAILOVER_BOUND = LEASE + 2 * RENEW;
/** A replica's first sync starts at once, not after the default 5 s of waiting for others. */
const QUICK_SYNC = ['--repl-diskless-sync-delay', '0'];

/**
 * Managed Redis fails over by moving one address (a VIP, a DNS name) to another server. Every node
 * reaches Redis through one proxy that plays that address. Nodes are separate processes.
 */
describe('Redis behind one address that moves', () => {
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  let proxy: TcpProxy | undefined;
  let cluster: FaultCluster | undefined;
  let keyPrefix: string;
  afterEach(async () => {
    await cluster?.stop();
    for (const client of clients.splice(0)) client.disconnect();
    await proxy?.close();
    for (const server of servers.splice(0)) await server.kill();
    [cluster, proxy] = [undefined, undefined];
  });

  async function server(args: string[] = []): Promise<RedisServer> {
    const started = await RedisServer.start({ args });
    servers.push(started);
    return started;
  }

  function client(target: RedisServer): Redis {
    const redis = new Redis(target.port, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    clients.push(redis);
    return redis;
  }

  /**
   * Nodes a, b, c on `primary` through the proxy, the fenced resource on a server of its own (so
   * that the move does not touch it); resolves once a master runs.
   */
  async function nodesBehindProxy(
    primary: RedisServer,
    timing = { intervalMs: INTERVAL, leaseMs: LEASE },
  ): Promise<FaultCluster> {
    const resource = await server();
    proxy = await TcpProxy.start(primary.port);
    keyPrefix = uniquePrefix();
    cluster = new FaultCluster({ redisUrl: proxy.url, keyPrefix, ...timing });
    await cluster.start(['a', 'b', 'c'], { RESOURCE_URL: resource.url });
    // Every node's lock and subscriber connections are open on the primary before any move.
    const admin = client(primary);
    await waitFor(
      async () => ((await admin.client('LIST')) as string).match(/name=kettle/g)?.length === 6,
      'every connection on the primary',
    );
    await waitFor(() => cluster!.master(), 'a master');
    await waitFor(() => cluster!.events.some((e) => e.ev === 'start'), 'a run');
    return cluster;
  }

  /** The node whose lease stands on `target`, read there directly. */
  async function holderOn(target: RedisServer): Promise<string | null> {
    const lease = await client(target).get(`${keyPrefix}{job}:lock`);
    return lease === null ? null : holderOf(lease);
  }

  const elections = (from: number, until = Infinity): FaultEvent[] =>
    cluster!.events.filter((e) => e.ev === 'elected' && e.t > from && e.t <= until);
  const runs = (from: number): FaultEvent[] =>
    cluster!.events.filter((e) => e.ev === 'start' && e.t > from);
  const highestTerm = (until: number) => Math.max(...elections(0, until).map((e) => e.term!));

  /**
   * After the move at `movedAt`: a run whose claim the new server took (`claimedThere` picks it)
   * and one master, both within the bound (a master that lost its lease may believe in it until its
   * own deadline, but starts no run); every election since the move with a term above every
   * earlier one, the master's lease on `to`, the invariants kept, and every node exiting by itself.
   */
  async function expectFailedOver(
    movedAt: number,
    to: RedisServer,
    claimedThere: () => FaultEvent | undefined,
  ): Promise<void> {
    const nodes = cluster!;
    const earlier = highestTerm(movedAt);
    const run = await waitFor(claimedThere, 'a run claimed on the new server', FAILOVER_BOUND * 3);
    const master = await waitFor(() => nodes.master(), 'one master', FAILOVER_BOUND * 3);
    const changes = nodes.events.filter(
      (e) => (e.ev === 'elected' || e.ev === 'revoked') && e.t > movedAt,
    );
    const settledAt = Math.max(movedAt, ...changes.map((e) => e.t));
    if (process.env.FAULTS_DEBUG)
      console.log(
        `after the move: a run at ${(run.t - movedAt).toFixed(0)} ms, one master at ${(settledAt - movedAt).toFixed(0)} ms`,
      );
    expect(run.t - movedAt).toBeLessThan(FAILOVER_BOUND);
    expect(settledAt - movedAt).toBeLessThan(FAILOVER_BOUND);
    for (const elected of elections(movedAt)) expect(elected.term).toBeGreaterThan(earlier);
    expect(run.term).toBeGreaterThanOrEqual(earlier);
    expect(await holderOn(to)).toBe(master);
    const exits = await nodes.stop();
    if (process.env.FAULTS_DEBUG)
      console.log(`moved at ${(movedAt - nodes.events[0].t).toFixed(0)}\n${nodes.timeline()}`);
    expect(checkInvariants(nodes.events)).toMatchObject({
      doubleMasters: 0,
      termRegressions: 0,
      staleWritesAccepted: 0,
      unhandledRejections: 0,
    });
    expect(exits.filter((exit) => !exit.exitedAlone)).toEqual([]);
  }

  it('black hole: the address moves to an empty server and the old connections swallow everything; one master again in time, with a higher term', async () => {
    const [from, to] = [await server(), await server()];
    const nodes = await nodesBehindProxy(from);
    const movedAt = monotonicNow();
    proxy!.retarget(to.port);
    proxy!.blackHole();
    const next = await nodes.nextMaster(movedAt, '', FAILOVER_BOUND * 3);
    expect(next.t - movedAt).toBeLessThan(FAILOVER_BOUND);
    // The new server is empty: a run of a new term was claimed there, an old one cannot have been.
    await expectFailedOver(movedAt, to, () =>
      runs(movedAt).find((run) => run.term! > highestTerm(movedAt)),
    );
  });

  it('demoted primary: the old primary turns replica of the new one, old connections get READONLY; one master again in time', async () => {
    const [from, to] = [await server(QUICK_SYNC), await server(QUICK_SYNC)];
    await nodesBehindProxy(from);
    await to.replicaOf(from);
    await to.synced();
    const movedAt = monotonicNow();
    await to.replicaOf();
    await from.replicaOf(to);
    proxy!.retarget(to.port);
    const demotedAt = monotonicNow();
    // The lease was replicated: the master may keep it. The first run after the demotion may come
    // of a claim answered just before it; the next claim was sent an interval later, after it, and
    // the old primary refuses writes: the new one took it.
    await expectFailedOver(movedAt, to, () => runs(demotedAt)[1]);
  });

  it('a master hears its connection come back: after Redis restarted empty, it steps down as soon as a follower is elected', async () => {
    // A long lease and an interval longer still: today the old master would notice only at its
    // next renewal, a third of the lease after the last.
    const lease = 9000;
    const bound = lease / 9;
    const redis = await server();
    const nodes = await nodesBehindProxy(redis, { intervalMs: 60_000, leaseMs: lease });
    const old = nodes.master()!;
    await redis.kill();
    const restartedAt = monotonicNow();
    await redis.start();
    const next = await nodes.nextMaster(restartedAt, old, lease);
    const revoked = await waitFor(
      () => nodes.events.find((e) => e.node === old && e.ev === 'revoked' && e.t > restartedAt),
      'the old master to step down',
      lease,
    );
    if (process.env.FAULTS_DEBUG)
      console.log(
        `elected ${(next.t - restartedAt).toFixed(0)} ms after the restart, old master revoked ${(revoked.t - next.t).toFixed(0)} ms after that`,
      );
    expect(revoked.reason).toBe('lost');
    expect(revoked.t - next.t).toBeLessThan(bound);
    expect(next.term).toBeGreaterThan(Math.max(...elections(0, restartedAt).map((e) => e.term!)));
    expect(await holderOn(redis)).toBe(next.node);
    const exits = await nodes.stop();
    expect(checkInvariants(nodes.events)).toMatchObject({
      doubleMasters: 0,
      termRegressions: 0,
      unhandledRejections: 0,
    });
    expect(exits.filter((exit) => !exit.exitedAlone)).toEqual([]);
  });
});
