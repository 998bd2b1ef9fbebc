import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { sleep, waitFor } from '#tools/wait.js';
import { uniquePrefix } from '../support/nodes.js';
import { FaultCluster } from './cluster.js';
import { checkInvariants, type FaultEvent } from './invariants.js';

/**
 * Cron elections (`join(name, { cron })`) whose nodes are separate processes: each slot runs once
 * across a hand-over (SIGTERM) and a crash (SIGKILL), on nodes whose clocks are 2 s apart.
 */
/** The lease of the crash test: long enough that the new master comes past the slot's grace. */
const LEASE = 12_000;

describe('cron schedules under process faults', () => {
  let server: RedisServer;
  const clusters: FaultCluster[] = [];
  afterEach(async () => {
    await Promise.all(clusters.splice(0).map((cluster) => cluster.stop()));
    await server?.kill();
  });

  function cluster(leaseMs: number): FaultCluster {
    const made = new FaultCluster({
      redisUrl: server.url,
      keyPrefix: uniquePrefix(),
      intervalMs: 1000,
      leaseMs,
    });
    clusters.push(made);
    return made;
  }

  const starts = (c: FaultCluster, node?: string) =>
    c.events.filter((e) => e.ev === 'start' && (node === undefined || e.node === node));

  /** The invariants, and every node still alive exits by itself. */
  async function expectSafe(c: FaultCluster) {
    const exits = await c.stop();
    if (process.env.FAULTS_DEBUG) console.log(c.timeline());
    if (process.env.FAULTS_DEBUG)
      console.log(
        c.events
          .filter((e) => e.ev === 'start')
          .map((e) => `${e.node} ${e.slot} ${e.at}`)
          .join('\n'),
      );
    expect(checkInvariants(c.events)).toMatchObject({
      doubleMasters: 0,
      termRegressions: 0,
      staleWritesAccepted: 0,
      unhandledRejections: 0,
    });
    expect(exits.filter((exit) => !exit.exitedAlone)).toEqual([]);
  }

  const slotsOf = (events: FaultEvent[]) => events.map((e) => e.slot!);

  /**
   * Three masters of `election` in turn: each runs the job three more times, then the first two
   * are stopped (SIGTERM) and wait to exit. Returns them in order.
   */
  async function handOverTwice(c: FaultCluster, election?: string): Promise<string[]> {
    const masters: string[] = [];
    for (let round = 0; round < 3; round++) {
      const master = await waitFor(() => c.master(election), 'a master', 20_000);
      masters.push(master);
      const count = starts(c, master).length;
      await waitFor(() => starts(c, master).length >= count + 3, 'three runs', 20_000);
      if (round < 2) {
        c.signal(master, 'SIGTERM');
        await waitFor(() => c.has(master, 'exit'), 'the master to exit', 15_000);
      }
    }
    return masters;
  }

  it('SIGTERM of the master, twice, on nodes 2 s apart: every second runs once, none early', async () => {
    server = await RedisServer.start();
    const c = cluster(6000);
    const env = (offset: number) => ({ CRON: '* * * * * *', CLOCK_OFFSET_MS: String(offset) });
    c.add('behind', env(-2000));
    c.add('exact', env(0));
    c.add('ahead', env(2000));
    await waitFor(
      () => ['behind', 'exact', 'ahead'].every((id) => c.has(id, 'up')),
      'boot',
      20_000,
    );
    const masters = await handOverTwice(c);
    await expectSafe(c);
    const runs = starts(c).sort((a, b) => a.slot! - b.slot!);
    const slots = slotsOf(runs);
    expect(new Set(slots).size).toBe(slots.length);
    // One run per second from the first slot to the last: none lost across the hand-overs.
    expect(slots).toEqual(slots.map((_, i) => slots[0] + i * 1000));
    // None before its slot on the real clock (Redis's), whichever clock its node had.
    for (const run of runs) expect(run.at!).toBeGreaterThanOrEqual(run.slot! - 5);
    expect(new Set(masters).size).toBe(3);
  }, 120_000);

  it('a guarded @Cron on nodes 1.5 s apart, across SIGTERM hand-overs: no slot runs twice', async () => {
    server = await RedisServer.start();
    const c = new FaultCluster({
      redisUrl: server.url,
      keyPrefix: uniquePrefix(),
      intervalMs: 1000,
      leaseMs: 3000,
      elections: [],
    });
    clusters.push(c);
    const env = (offset: number) => ({ GUARD: '1', CLOCK_OFFSET_MS: String(offset) });
    await c.start(['exact'], env(0));
    await waitFor(() => c.master('guarded'), 'a master', 20_000);
    c.add('behind', env(-1500));
    c.add('ahead', env(1500));
    await waitFor(() => c.has('behind', 'up') && c.has('ahead', 'up'), 'boot', 20_000);
    await handOverTwice(c, 'guarded');
    await expectSafe(c);
    const slots = slotsOf(starts(c));
    // Each run's slot is the one its guard claimed: none is missing, none ran twice.
    expect(slots.every((slot) => typeof slot === 'number' && slot % 1000 === 0)).toBe(true);
    expect(new Set(slots).size).toBe(slots.length);
    expect(new Set(starts(c).map((e) => e.node)).size).toBe(3);
  }, 120_000);

  it('SIGKILL 1 s before a slot: the new master runs it late with catchUp latest (the default), skips it with none', async () => {
    // A slot every 30 s stands in for a daily one. The lease is 12 s: the crash leaves 8 to 12 s
    // of it (renewed every 4 s), so the new master claims the slot 7 s or more after it fell due,
    // past its grace (2 s + a third of the lease, 6 s): only catching up runs it.
    server = await RedisServer.start();
    const byCatchUp = { latest: cluster(LEASE), none: cluster(LEASE) };
    const every = '*/30 * * * * *';
    byCatchUp.latest.add('a', { CRON: every });
    byCatchUp.latest.add('b', { CRON: every });
    byCatchUp.none.add('a', { CRON: every, CATCH_UP: 'none' });
    byCatchUp.none.add('b', { CRON: every, CATCH_UP: 'none' });
    const both = Object.values(byCatchUp);
    // Both clusters have run a slot: the next one is the one to crash before.
    await waitFor(() => both.every((c) => starts(c).length >= 1), 'a first run', 60_000);
    const first = Math.max(...both.map((c) => starts(c)[0].slot!));
    // The crash must come before the slot: a sleep that overshoots (a loaded machine) moves the
    // crash to the next slot rather than crash after the slot ran.
    let target = first + 30_000;
    for (;;) {
      await sleep(target - 1000 - Date.now());
      if (Date.now() < target - 500) break;
      target += 30_000;
    }
    const killed = both.map((c) => {
      const master = c.master()!;
      c.signal(master, 'SIGKILL');
      return master;
    });
    const killedAt = Date.now();
    expect(killedAt).toBeLessThan(target);
    const next = target + 30_000;
    await waitFor(
      () => both.every((c) => starts(c).some((e) => e.slot === next)),
      'the slot after, on the new masters',
      50_000,
    );
    const latest = starts(byCatchUp.latest).filter((e) => e.slot === target);
    expect(latest).toHaveLength(1);
    expect(latest[0].node).not.toBe(killed[0]);
    // It ran late: after the lease the crash left, so past the grace.
    const lateMs = latest[0].at! - target;
    expect(lateMs).toBeGreaterThan(2000 + LEASE / 3);
    if (process.env.FAULTS_DEBUG) console.log(`caught up ${lateMs} ms after its slot`);
    expect(starts(byCatchUp.none).filter((e) => e.slot === target)).toEqual([]);
    for (const [catchUp, c] of Object.entries(byCatchUp)) {
      await expectSafe(c);
      const slots = slotsOf(starts(c)).sort((a, b) => a - b);
      expect(new Set(slots).size).toBe(slots.length);
      // Every slot from the first to the last ran, but the one 'none' skipped.
      const every30s = Array.from(
        { length: (slots.at(-1)! - slots[0]) / 30_000 + 1 },
        (_, i) => slots[0] + i * 30_000,
      );
      expect(slots).toEqual(
        catchUp === 'none' ? every30s.filter((slot) => slot !== target) : every30s,
      );
    }
  }, 200_000);
});
