import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { sleep, waitFor } from '../support/wait.js';
import { monotonicNow } from './cluster.js';
import { QuorumRig } from './quorum-rig.js';
import { quorumSoak, quorumSoakTable } from './quorum-soak.js';

/**
 * Random faults against several nodes electing on a quorum of three redis-servers. CI runs it
 * short; QUORUM_SOAK_SECONDS and QUORUM_SOAK_NODES run it long, and QUORUM_SOAK_REPORT writes
 * the tables to a file.
 */
const seconds = Number(process.env.QUORUM_SOAK_SECONDS ?? 25);
const nodes = Number(process.env.QUORUM_SOAK_NODES ?? 3);

it(
  `quorum soak: ${nodes} nodes on 3 redis-servers, random faults for ${seconds} s, never two masters`,
  { timeout: (seconds + 120) * 1000 },
  async () => {
    const result = await quorumSoak(
      { nodes, seconds, intervalMs: 300, leaseMs: 1500, quietMs: 1500 },
      process.env.FAULTS_DEBUG ? console.log : undefined,
    );
    const table = quorumSoakTable(result);
    if (process.env.QUORUM_SOAK_REPORT) writeFileSync(process.env.QUORUM_SOAK_REPORT, `${table}\n`);
    console.log(table);
    expect(result).toMatchObject({
      doubleMasters: 0,
      staleWritesAccepted: 0,
      termRegressions: 0,
      crashes: 0,
      unhandledRejections: 0,
      leaks: 0,
    });
    // A master cut off from a majority gives up before any other node is elected.
    expect(result.stepDownMargins.filter((margin) => margin <= 0)).toEqual([]);
    // A master that holds two servers besides the one faulted keeps its leadership.
    expect(result.rideOuts.filter((r) => r.expected && !r.kept)).toEqual([]);
    expect(Object.values(result.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  },
);

/**
 * Found by the quorum soak (a liveness gap, not a safety one): a renewal extends the lease only
 * where it still stands, and nothing takes back a server on which it lapsed (cut off for longer
 * than a lease, restarted, not connected yet at boot, or still held by the previous master when
 * this one won the other two). The master then holds two servers of three, and a fault on either
 * costs its leadership although it still reaches a majority. This test pins today's behaviour:
 * once the store takes servers back, the master should hold all three and keep its leadership.
 */
it('known gap: a master does not take back a server it lost, so a second one-server cut costs its leadership', async () => {
  const leaseMs = 1500;
  const rig = new QuorumRig({ intervalMs: 300, leaseMs, runMs: 50 });
  try {
    await rig.start(2);
    const { cluster } = rig;
    const master = await waitFor(() => cluster.master(), 'a master', 10_000);
    await sleep(leaseMs);
    let held = await rig.heldBy(master);
    const links = rig.links.get(master)!;
    if (held.length === 3) {
      // Cut it from server 0 for two leases: it rides that out, but loses server 0 for good.
      const at = monotonicNow();
      links[0].partition();
      await sleep(leaseMs * 2);
      links[0].heal();
      await sleep(leaseMs * 2);
      expect(cluster.has(master, 'revoked', at)).toBe(false);
      held = await rig.heldBy(master);
    }
    // (Or it never had the third server: at boot, its link to that one was not ready yet.)
    // It reaches all three servers and holds two, two leases on.
    expect(held).toHaveLength(2);

    const cutAt = monotonicNow();
    links[held[0]].partition();
    await sleep(leaseMs * 2);
    links[held[0]].heal();
    // It reached the two other servers all along, a majority, yet stepped down; safely: before any
    // node (itself included, once it takes those two again) was elected.
    const revoked = cluster.events.find(
      (e) => e.node === master && e.ev === 'revoked' && e.t > cutAt,
    );
    expect(revoked?.reason).toBe('expired');
    const elected = () => cluster.events.find((e) => e.ev === 'elected' && e.t > cutAt);
    const next = await waitFor(elected, 'a master again', leaseMs * 4);
    expect(next.t).toBeGreaterThan(revoked!.t);
  } finally {
    expect(await rig.stop()).toBe(0);
  }
});
