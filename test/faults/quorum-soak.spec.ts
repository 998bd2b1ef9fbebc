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
 * than a lease, restarted, or still held by the previous master when this one won the other two).
 * The master then holds two servers of three, and a fault on either costs its leadership although
 * it still reaches a majority. This test pins today's behaviour; when the store takes servers
 * back, flip the last two expectations.
 */
it('known gap: a master does not take back a server it lost, so a second one-server cut costs its leadership', async () => {
  const leaseMs = 1500;
  const rig = new QuorumRig({ intervalMs: 300, leaseMs, runMs: 50 });
  try {
    await rig.start(2);
    const { cluster } = rig;
    const master = await waitFor(() => cluster.master(), 'a master', 10_000);
    await waitFor(async () => (await rig.heldBy(master)).length === 3, 'the lease on 3 servers');
    const [first, second] = rig.links.get(master)!;
    const at = monotonicNow();
    first.partition();
    await sleep(leaseMs * 2);
    first.heal();
    await sleep(leaseMs * 2);
    // It rode out the first cut, but holds servers 1 and 2 only, two leases after the heal.
    expect(cluster.has(master, 'revoked', at)).toBe(false);
    expect(await rig.heldBy(master)).toEqual([1, 2]);

    const cutAt = monotonicNow();
    second.partition();
    await sleep(leaseMs * 2);
    second.heal();
    // It reached servers 0 and 2 all along, a majority, yet stepped down (safely: before the next
    // master was elected).
    const revoked = cluster.events.find(
      (e) => e.node === master && e.ev === 'revoked' && e.t > cutAt,
    );
    expect(revoked?.reason).toBe('expired');
    const next = await cluster.nextMaster(cutAt, master, leaseMs * 4);
    expect(next.t).toBeGreaterThan(revoked!.t);
  } finally {
    expect(await rig.stop()).toBe(0);
  }
});
