import { afterEach, describe, expect, it } from 'vitest';
import { monotonicNow } from '#tools/clock.js';
import type { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { sleep, waitFor } from '#tools/wait.js';
import { FaultCluster } from './cluster.js';
import type { FaultEvent } from './invariants.js';
import { checkInvariants } from './invariants.js';

const INTERVAL = 1000;
const LEASE = 3000;
const RETRY = LEASE / 3;
const ELECTIONS = Array.from({ length: 30 }, (_, i) => `job-${i}`);
const BALANCE = { BALANCE: '1' };
/** Longer than the lease: the others take the faulty node's elections over meanwhile. */
const FAULT_MS = 2 * LEASE;

/** `balance: true` with 3 node processes on one Redis, through a crash and a restart. */
describe('balance', () => {
  let cluster: FaultCluster & { redis: RedisServer };
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await cluster?.stop();
    await proxy?.close();
    proxy = undefined;
    await cluster?.close();
  });

  async function startCluster(): Promise<void> {
    cluster = await FaultCluster.onNewRedis({
      intervalMs: INTERVAL,
      leaseMs: LEASE,
      elections: ELECTIONS,
    });
  }

  /**
   * Per election, the slots its runs claimed: none twice, and none missed (two slots more than an
   * interval apart) but across `faultAt`, where the lease and a retry may pass first.
   */
  function expectEachSlotOnce(faultAt: number, faultMs = 0): void {
    for (const election of ELECTIONS) {
      const runs = cluster.events
        .filter(
          (e): e is FaultEvent & { slot: number } => e.ev === 'start' && e.election === election,
        )
        .sort((x, y) => x.slot - y.slot);
      const slots = runs.map((run) => run.slot);
      expect(runs.length, `${election}: runs`).toBeGreaterThan(2);
      expect(new Set(slots).size, `${election}: a slot ran twice`).toBe(slots.length);
      for (let i = 1; i < runs.length; i++) {
        const gap = slots[i] - slots[i - 1];
        const acrossFault = runs[i - 1].t < faultAt + faultMs && runs[i].t > faultAt;
        const allowed = acrossFault ? faultMs + LEASE + RETRY + 2 * INTERVAL : 2 * INTERVAL;
        expect(gap, `${election}: ${gap} ms between two runs`).toBeLessThan(allowed);
      }
    }
  }

  /** Every election led by exactly one live node, and each node within one of `share`. */
  const spread = (nodes: string[], share: number) => () => {
    const counts = cluster.leadingCounts(ELECTIONS);
    const led = [...counts.values()].reduce((a, b) => a + b, 0);
    const fair = nodes.every((node) => Math.abs((counts.get(node) ?? 0) - share) <= 1);
    return led === ELECTIONS.length && fair ? counts : undefined;
  };
  const ms = (since: number) => `${Math.round(monotonicNow() - since)} ms`;
  const handOvers = (after: number) =>
    cluster.events.filter((e) => e.ev === 'elected' && e.t > after).length;

  it('3 nodes lead 10 ± 1 each; a SIGKILL leaves 15 ± 1; a restart brings back 10 ± 1; no slot twice', async () => {
    await startCluster();
    await cluster.start(['a'], BALANCE);
    await waitFor(spread(['a'], 30), 'a to lead all 30', 20_000);
    const joinedAt = monotonicNow();
    await cluster.start(['b', 'c'], BALANCE);
    const joined = await waitFor(spread(['a', 'b', 'c'], 10), '10 ± 1 each', 8 * LEASE);
    console.log(`3 nodes after ${ms(joinedAt)}:`, Object.fromEntries(joined));

    // A stable fleet hands nothing over.
    const quietFrom = monotonicNow();
    await sleep(4 * LEASE);
    expect(handOvers(quietFrom)).toBe(0);

    const killedAt = monotonicNow();
    cluster.signal('c', 'SIGKILL');
    const absorbed = await waitFor(spread(['a', 'b'], 15), '15 ± 1 each', 10 * LEASE);
    console.log(`${ms(killedAt)} after the kill:`, Object.fromEntries(absorbed));

    const restartedAt = monotonicNow();
    await cluster.start(['c'], BALANCE);
    const back = await waitFor(spread(['a', 'b', 'c'], 10), '10 ± 1 each again', 10 * LEASE);
    console.log(`${ms(restartedAt)} after the restart:`, Object.fromEntries(back));
    await sleep(2 * INTERVAL);

    await cluster.stop();
    const report = checkInvariants(cluster.events);
    expect(report).toMatchObject({ doubleMasters: 0, termRegressions: 0, staleWritesAccepted: 0 });
    const rebalanced = cluster.events.filter((e) => e.reason === 'rebalanced');
    expect(rebalanced.length).toBeGreaterThan(0);
    if (process.env.FAULTS_DEBUG) console.log(cluster.timeline());
    const handedBetween = (from: number, to = Infinity) =>
      rebalanced.filter((e) => e.t > from && e.t <= to).length;
    console.log(
      `hand-overs by balance: ${handedBetween(joinedAt, quietFrom)} at the join, ` +
        `${handedBetween(killedAt, restartedAt)} after the kill, ${handedBetween(restartedAt)} after the restart`,
    );

    expectEachSlotOnce(killedAt);
  }, 180_000);

  /**
   * Node a leads all 30; b and c join, and a fault hits a just as it starts handing its surplus
   * over. Whatever the fault, every election ends with one master and the nodes alive share them.
   */
  it.each([
    ['a SIGKILL', ['b', 'c'], 15],
    ['a freeze past the lease', ['a', 'b', 'c'], 10],
    ['a partition past the lease', ['a', 'b', 'c'], 10],
  ] as const)(
    '%s of a node handing over: no slot twice, then fair again',
    async (fault, survivors, share) => {
      await startCluster();
      proxy = await TcpProxy.start(cluster.redis.port);
      await cluster.start(['a'], { ...BALANCE, REDIS_URL: proxy.url });
      await waitFor(spread(['a'], 30), 'a to lead all 30', 20_000);
      const joinedAt = monotonicNow();
      cluster.add('b', BALANCE);
      cluster.add('c', BALANCE);
      await waitFor(
        () => cluster.events.some((e) => e.reason === 'rebalanced' && e.t > joinedAt),
        'a to start handing over',
        20_000,
      );
      const faultAt = monotonicNow();
      if (fault === 'a SIGKILL') cluster.signal('a', 'SIGKILL');
      if (fault === 'a freeze past the lease') {
        cluster.signal('a', 'SIGSTOP');
        await sleep(FAULT_MS);
        cluster.signal('a', 'SIGCONT');
      }
      if (fault === 'a partition past the lease') {
        proxy.partition();
        await sleep(FAULT_MS);
        proxy.heal();
      }
      const fair = await waitFor(spread([...survivors], share), `${share} ± 1 each`, 15 * LEASE);
      console.log(`${fault}: fair after ${ms(faultAt)}:`, Object.fromEntries(fair));
      await sleep(2 * INTERVAL);

      await cluster.stop();
      const report = checkInvariants(cluster.events);
      expect(report).toMatchObject({
        doubleMasters: 0,
        termRegressions: 0,
        staleWritesAccepted: 0,
      });
      expectEachSlotOnce(faultAt, fault === 'a SIGKILL' ? 0 : FAULT_MS);
    },
    180_000,
  );
});
