import { afterEach, describe, expect, it } from 'vitest';
import type { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { sleep, waitFor } from '#tools/wait.js';
import { monotonicNow } from '#tools/clock.js';
import { crashPollMs } from '../../lib/core/election/crash-watch.js';
import { crashDetectionOn, holderConnectionClosed } from '../../lib/core/kettle.messages.js';
import { FaultCluster } from './cluster.js';
import { checkInvariants, type FaultEvent } from './invariants.js';

const INTERVAL = 1000;
const LEASE = 10_000;
const RENEW_EVERY = LEASE / 3;
/** How often a follower asks whether the holders' connections are still there. */
const POLL = crashPollMs(LEASE);
/** How long a follower's own connections must have been up before it polls. */
/**
 * A crashed master followed by its connection: a poll and a takeover, with room for a loaded
 * machine. By the lease it would take about a lease (LEASE).
 */
const FOLLOWED_FAST_MS = 2500;
const CRASH_DETECTION = { CRASH_DETECTION: 'connection', KETTLE_LOG: '1' };

/**
 * crashDetection 'connection', nodes as separate processes on a Redis of their own: a master whose
 * connections close is followed within a poll; one that is frozen or cut off, after its lease.
 */
describe('crash detection by connection', () => {
  let cluster: FaultCluster & { redis: RedisServer };
  const proxies = new Map<string, TcpProxy>();
  afterEach(async () => {
    await cluster?.stop();
    for (const proxy of proxies.values()) await proxy.close();
    proxies.clear();
    await cluster?.close();
  });

  /**
   * Starts `ids` on a new Redis (each through a proxy of its own with `proxied`), waits until every
   * node says crash detection is on and has polled a few times, and returns the master.
   */
  async function settledCluster(
    ids: string[],
    { proxied = false, runMs = 0 } = {},
  ): Promise<string> {
    cluster = await FaultCluster.onNewRedis({ intervalMs: INTERVAL, leaseMs: LEASE, runMs });
    for (const id of ids) {
      const proxy = proxied ? await TcpProxy.start(cluster.redis.port) : undefined;
      if (proxy) proxies.set(id, proxy);
      cluster.add(id, { ...CRASH_DETECTION, ...(proxy && { REDIS_URL: proxy.url }) });
    }
    const on = crashDetectionOn(POLL);
    const said = await waitFor(
      () => {
        const lines = ids.map((id) => logged(id, on));
        return lines.every((line) => line !== undefined) ? lines : undefined;
      },
      'every node to turn crash detection on',
      20_000,
    );
    // A follower takes over only a holder it has seen alive: a few polls first. Polls fall on a
    // grid: a random wait puts the fault at any point of one.
    const lastOn = Math.max(...said.map((line) => line.t));
    await sleep(Math.max(0, lastOn + 3 * POLL + Math.random() * POLL - monotonicNow()));
    const master = await waitFor(() => cluster.master(), 'a master');
    await waitFor(() => runsOf(master).length >= 2, 'runs on the master');
    return master;
  }

  const logged = (node: string, message: string, after = 0) =>
    cluster.events.find(
      (e) => e.ev === 'log' && e.node === node && e.message === message && e.t > after,
    );
  const runsOf = (node: string, after = 0) =>
    cluster.events.filter((e) => e.ev === 'start' && e.node === node && e.t > after);
  const electedAfter = (after: number, except: string) =>
    cluster.events.filter((e) => e.ev === 'elected' && e.node !== except && e.t > after);

  /** An election won by taking a lease over: the node's takeover count went up with it. */
  function isTakeover(elected: FaultEvent): boolean {
    const before = cluster.events
      .filter((e) => e.ev === 'elected' && e.node === elected.node && e.t < elected.t)
      .at(-1);
    return (elected.takeovers ?? 0) > (before?.takeovers ?? 0);
  }

  /**
   * Runs started by a node under a term older than one another node was elected with before:
   * the old master started a run after it was taken over.
   */
  function runsAfterTakenOver(): FaultEvent[] {
    const elected = cluster.events.filter((e) => e.ev === 'elected');
    return cluster.events.filter(
      (run) =>
        run.ev === 'start' &&
        elected.some((e) => e.node !== run.node && e.term! > run.term! && e.t < run.t),
    );
  }

  /** Every invariant; no slot ran twice; every node closes and exits by itself. */
  async function expectSafe() {
    const exits = await cluster.stop();
    if (process.env.FAULTS_DEBUG) console.log(cluster.timeline());
    expect(
      cluster.events.filter((e) => e.ev === 'unhandled').map((e) => `${e.node}: ${e.error}`),
    ).toEqual([]);
    const report = checkInvariants(cluster.events);
    expect(report).toMatchObject({
      doubleMasters: 0,
      termRegressions: 0,
      staleWritesAccepted: 0,
      unhandledRejections: 0,
    });
    const slots = cluster.events.filter((e) => e.ev === 'start').map((e) => e.slot);
    expect(slots.length).toBeGreaterThan(2);
    expect(new Set(slots).size, 'a slot ran twice').toBe(slots.length);
    expect(runsAfterTakenOver()).toEqual([]);
    expect(exits.filter((exit) => !exit.exitedAlone)).toEqual([]);
    expect(
      cluster.events.filter((e) => e.ev === 'exit' && e.code !== 0 && e.signal !== 'SIGKILL'),
    ).toEqual([]);
    return report;
  }

  /** The ids of `node`'s subscriber connections, by their client name, on the private server. */
  async function subscriberIds(node: string): Promise<string[]> {
    const list = (await cluster.redis.admin.client('LIST')) as string;
    return list
      .split('\n')
      .filter((line) => line.includes(` name=kettle-sub:${node} `))
      .map((line) => /^id=(\d+) /.exec(line)![1]);
  }

  /** A node other than `master` takes over after a SIGKILL, well within the lease. */
  async function expectKillFollowedFast(master: string): Promise<void> {
    const killedAt = monotonicNow();
    cluster.signal(master, 'SIGKILL');
    const next = await cluster.nextMaster(killedAt, master, LEASE + RENEW_EVERY);
    const followedMs = next.t - killedAt;
    console.log(`SIGKILL of ${master}: ${next.node} leads after ${followedMs.toFixed(0)} ms`);
    expect(followedMs).toBeLessThan(FOLLOWED_FAST_MS);
    expect(isTakeover(next)).toBe(true);
    expect(logged(next.node, holderConnectionClosed(master, 1), killedAt)).toBeDefined();
    await waitFor(() => runsOf(next.node, killedAt).length >= 2, 'runs on the new master');
  }

  it('SIGKILL of the master: a survivor takes its lease over within a poll or so, not a lease', async () => {
    const master = await settledCluster(['a', 'b', 'c']);
    await expectKillFollowedFast(master);
    await expectSafe();
  }, 60_000);

  it('SIGSTOP of the master for 2 s: its connections stay open, nothing is handed over', async () => {
    const master = await settledCluster(['a', 'b', 'c']);
    const frozenAt = monotonicNow();
    cluster.signal(master, 'SIGSTOP');
    await sleep(2000);
    const thawedAt = monotonicNow();
    cluster.signal(master, 'SIGCONT');
    // Every follower has polled several times while it was frozen, and again since.
    await waitFor(() => runsOf(master, thawedAt).length >= 2, 'runs after the thaw');
    expect(electedAfter(frozenAt, master)).toEqual([]);
    expect(cluster.has(master, 'revoked', frozenAt)).toBe(false);
    for (const id of ['a', 'b', 'c'])
      expect(logged(id, holderConnectionClosed(master, 1), frozenAt)).toBeUndefined();
    expect(cluster.master()).toBe(master);
    await expectSafe();
  }, 60_000);

  it("CLIENT KILL of the master's subscriber: kept or taken over, never run by both", async () => {
    // Runs longer than the interval: one in flight when the master is taken over goes on past
    // the new master's first slot, unless the old master learns of the takeover first.
    const runMs = 3 * INTERVAL;
    const first = await settledCluster(['a', 'b', 'c'], { runMs });
    const [id] = await subscriberIds(first);
    expect(id).toBeDefined();

    // Once: the subscriber is back in tens of milliseconds, and a follower polls every POLL ms.
    // Whichever comes first decides; both outcomes are sound, and either is checked.
    const killedAt = monotonicNow();
    await cluster.redis.admin.client('KILL', 'ID', id);
    await waitFor(
      async () => (await subscriberIds(first)).some((again) => again !== id),
      'the subscriber to come back',
    );
    const backMs = monotonicNow() - killedAt;
    await sleep(3 * POLL);
    const [next] = electedAfter(killedAt, first);
    console.log(
      `one CLIENT KILL: subscriber back within ${backMs.toFixed(0)} ms; ` +
        (next ? `taken over by ${next.node}` : `${first} kept the lead`),
    );
    if (next) {
      expect(isTakeover(next)).toBe(true);
      await waitFor(() => cluster.has(first, 'revoked', killedAt), 'the old master to step down');
    } else {
      expect(cluster.master()).toBe(first);
      expect(cluster.has(first, 'revoked', killedAt)).toBe(false);
    }

    // Again and again, from the start of a run, as soon as it is back: a follower polls while it
    // is down, and takes over. The master keeps renewing on its command connection, so only a
    // takeover moves the lease.
    const master = cluster.master()!;
    const armedAt = monotonicNow();
    await waitFor(() => runsOf(master, armedAt).length >= 1, 'a run on the master', 2 * runMs, 1);
    const floodAt = monotonicNow();
    let kills = 0;
    const taken = await waitFor(
      async () => {
        for (const again of await subscriberIds(master)) {
          await cluster.redis.admin.client('KILL', 'ID', again).catch(() => undefined);
          kills++;
        }
        return electedAfter(floodAt, master)[0];
      },
      'a follower to take the lease over',
      LEASE / 2,
      5,
    );
    expect(isTakeover(taken)).toBe(true);
    expect(logged(taken.node, holderConnectionClosed(master, 1), floodAt)).toBeDefined();
    const revoked = await waitFor(
      () => cluster.events.find((e) => e.ev === 'revoked' && e.node === master && e.t > floodAt),
      'the old master to step down',
    );
    expect(revoked.reason).toBe('lost');
    const firstRun = await waitFor(
      () => runsOf(taken.node, taken.t)[0],
      'a run on the new master',
      2 * runMs,
    );
    console.log(
      `CLIENT KILL until taken over: ${kills} kills; ${taken.node} leads after ` +
        `${(taken.t - floodAt).toFixed(0)} ms; ${master} steps down ` +
        `${(revoked.t - taken.t).toFixed(0)} ms after that, ${taken.node} runs after ` +
        `${(firstRun.t - taken.t).toFixed(0)} ms`,
    );
    // The old master knew it had lost before the new one started a run: its run in flight was
    // aborted by then, and no moment had two nodes running as masters.
    expect(revoked.t).toBeLessThan(firstRun.t);
    await expectSafe();
  }, 60_000);

  it('behind a TCP proxy per node: SIGKILL of the master is still followed within a poll or so', async () => {
    const master = await settledCluster(['a', 'b', 'c'], { proxied: true });
    await expectKillFollowedFast(master);
    await expectSafe();
  }, 60_000);

  it("a partition of the master's link (sockets left open): followed after the lease, not before", async () => {
    const master = await settledCluster(['a', 'b', 'c'], { proxied: true });
    const cutAt = monotonicNow();
    proxies.get(master)!.partition();
    const next = await cluster.nextMaster(cutAt, master, 2 * LEASE);
    const followedMs = next.t - cutAt;
    console.log(`partition of ${master}: ${next.node} leads after ${followedMs.toFixed(0)} ms`);
    // The lease had at least a renewal period less than its whole left at the cut.
    expect(followedMs).toBeGreaterThan(LEASE - RENEW_EVERY);
    expect(isTakeover(next)).toBe(false);
    const revoked = cluster.events.find(
      (e) => e.ev === 'revoked' && e.node === master && e.t > cutAt,
    )!;
    expect(revoked.reason).toBe('expired');
    expect(revoked.t).toBeLessThan(next.t);
    proxies.get(master)!.heal();
    await waitFor(() => runsOf(next.node, next.t).length >= 2, 'runs on the new master');
    expect(cluster.master()).toBe(next.node);
    await expectSafe();
  }, 60_000);
});
