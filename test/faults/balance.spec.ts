import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { monotonicNow } from '#tools/clock.js';
import { sleep, waitFor } from '#tools/wait.js';
import { uniquePrefix } from '../support/nodes.js';
import { FaultCluster } from './cluster.js';
import type { FaultEvent } from './invariants.js';
import { checkInvariants } from './invariants.js';

const INTERVAL = 1000;
const LEASE = 3000;
const RETRY = LEASE / 3;
const ELECTIONS = Array.from({ length: 30 }, (_, i) => `job-${i}`);

/** `balance: true` with 3 node processes on one Redis, through a crash and a restart. */
describe('balance', () => {
  let server: RedisServer;
  let cluster: FaultCluster;
  afterEach(async () => {
    await cluster?.stop();
    await server?.kill();
  });

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
    server = await RedisServer.start();
    cluster = new FaultCluster({
      redisUrl: server.url,
      keyPrefix: uniquePrefix(),
      intervalMs: INTERVAL,
      leaseMs: LEASE,
      elections: ELECTIONS,
    });
    const balance = { BALANCE: '1' };
    await cluster.start(['a'], balance);
    await waitFor(spread(['a'], 30), 'a to lead all 30', 20_000);
    const joinedAt = monotonicNow();
    await cluster.start(['b', 'c'], balance);
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
    await cluster.start(['c'], balance);
    const back = await waitFor(spread(['a', 'b', 'c'], 10), '10 ± 1 each again', 10 * LEASE);
    console.log(`${ms(restartedAt)} after the restart:`, Object.fromEntries(back));
    await sleep(2 * INTERVAL);

    await cluster.stop();
    const report = checkInvariants(cluster.events);
    expect(report).toMatchObject({ doubleMasters: 0, termRegressions: 0, staleWritesAccepted: 0 });
    const rebalanced = cluster.events.filter((e) => e.reason === 'rebalanced');
    expect(rebalanced.length).toBeGreaterThan(0);
    if (process.env.FAULTS_DEBUG) console.log(cluster.timeline());
    console.log(
      `hand-overs by balance: ${rebalanced.length}; after the restart: ${handOvers(restartedAt)}`,
    );

    // Per election, the slots its runs claimed: none twice, and none missed but across the crash.
    for (const election of ELECTIONS) {
      const runs = cluster.events
        .filter(
          (e): e is FaultEvent & { slot: number } => e.ev === 'start' && e.election === election,
        )
        .sort((x, y) => x.slot - y.slot);
      const slots = runs.map((run) => run.slot);
      expect(runs.length, `${election}: runs`).toBeGreaterThan(10);
      expect(new Set(slots).size, `${election}: a slot ran twice`).toBe(slots.length);
      for (let i = 1; i < runs.length; i++) {
        const gap = slots[i] - slots[i - 1];
        const acrossCrash = runs[i - 1].t < killedAt && runs[i].t > killedAt;
        const allowed = acrossCrash ? LEASE + RETRY + 2 * INTERVAL : 2 * INTERVAL;
        expect(gap, `${election}: ${gap} ms between two runs`).toBeLessThan(allowed);
      }
    }
  }, 180_000);
});
