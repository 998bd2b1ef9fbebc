import { afterEach, describe, expect, it } from 'vitest';
import type { Kettle } from '../../lib/core/kettle.js';
import { crashPollMs } from '../../lib/core/election/crash-watch.js';
import { TIMER_SLICE_MS } from '../../lib/core/election/timing.js';
import { BalanceFleet, jobs } from './balance-rig.js';

const LEASE = 10_000;
const POLL = crashPollMs(LEASE);

/**
 * crashDetection 'connection' on the controlled clock, with MemoryStores: a node whose store
 * closes stands for a process that died (Redis drops its connections); one whose clock stops but
 * whose store stays open, for a frozen process (its sockets stay open).
 */
describe("crashDetection 'connection'", () => {
  const fleet = new BalanceFleet();
  const { clock } = fleet;
  afterEach(() => fleet.stopAll());

  /** Slots run, by node, on the store's clock. */
  const runs: Array<{ node: string; slot: number }> = [];
  afterEach(() => void (runs.length = 0));

  function node(id: string, prefix: string, options: { dying?: boolean; balance?: boolean } = {}) {
    const dying = options.dying ? fleet.dyingClock() : undefined;
    const kettle = fleet.node(id, prefix, {
      elections: options.balance ? jobs(30) : ['job'],
      balance: options.balance ?? false,
      leaseTtl: LEASE,
      crashDetection: true,
      clock: dying?.clock,
      run: ({ scheduledAt }) => void runs.push({ node: id, slot: scheduledAt.getTime() }),
    });
    return { kettle, die: () => dying?.die() };
  }

  /** The process dies: no timer of its fires again, and its connections close. */
  async function crash(victim: { kettle: Kettle; die: () => void }): Promise<number> {
    victim.die();
    await victim.kettle.store.close();
    return clock.now();
  }

  it('follows a crashed master within a poll, not a lease, and runs no slot twice', async () => {
    const prefix = `crash-${Math.random()}:`;
    const a = node('a', prefix, { dying: true });
    await clock.advanceUntil(() => a.kettle.isMaster('job'), 'a to lead');
    const b = node('b', prefix);
    await clock.advance(2_000);
    expect(b.kettle.isMaster('job')).toBe(false);

    const crashedAt = await crash(a);
    await clock.advanceUntil(() => b.kettle.isMaster('job'), 'b to take over', LEASE);
    expect(clock.now() - crashedAt).toBeLessThanOrEqual(POLL + 2 * TIMER_SLICE_MS);
    expect(b.kettle.stats('job')?.takeovers).toBe(1);

    await clock.advance(5_000);
    const slots = runs.map((run) => run.slot);
    expect(new Set(slots).size).toBe(slots.length);
    const lastOfA = Math.max(...runs.filter((run) => run.node === 'a').map((run) => run.slot));
    const firstOfB = Math.min(...runs.filter((run) => run.node === 'b').map((run) => run.slot));
    // On the old grid: the next slot, neither run twice nor skipped.
    expect(firstOfB - lastOfA).toBe(1000);
  });

  it('lets a frozen master keep its lease: only closed connections are a crash', async () => {
    const prefix = `freeze-${Math.random()}:`;
    const a = node('a', prefix, { dying: true });
    await clock.advanceUntil(() => a.kettle.isMaster('job'), 'a to lead');
    const b = node('b', prefix);
    await clock.advance(2_000);

    // Its timers stop, its store stays open: followed once its lease ran out, as without it.
    a.die();
    const frozenAt = clock.now();
    await clock.advanceUntil(() => b.kettle.isMaster('job'), 'b to lead', 2 * LEASE);
    expect(clock.now() - frozenAt).toBeGreaterThan(LEASE - LEASE / 3);
    expect(b.kettle.stats('job')?.takeovers).toBe(0);
  });

  it('follows a holder it never saw alive after its lease: its silence may be a lost server', async () => {
    const prefix = `unseen-${Math.random()}:`;
    const a = node('a', prefix, { dying: true });
    await clock.advanceUntil(() => a.kettle.isMaster('job'), 'a to lead');
    // b's first poll comes after a is gone: it never saw a's connection, as after a restart.
    const b = node('b', prefix);
    const crashedAt = await crash(a);
    await clock.advanceUntil(() => b.kettle.isMaster('job'), 'b to lead', 2 * LEASE);
    expect(clock.now() - crashedAt).toBeGreaterThan(LEASE - LEASE / 3);
    expect(b.kettle.stats('job')?.takeovers).toBe(0);
  });

  it("with balance, spreads a crashed node's elections over the survivors within a second", async () => {
    const prefix = `crash-balance-${Math.random()}:`;
    // Started apart, as processes are: their polls still fall on one grid.
    const a = node('a', prefix, { balance: true });
    await clock.advance(170);
    const b = node('b', prefix, { balance: true });
    await clock.advance(170);
    const c = node('c', prefix, { balance: true, dying: true });
    const counts = () => [a, b, c].map((n) => n.kettle.leading().length);
    await clock.advanceUntil(
      () => counts().every((count) => Math.abs(count - 10) <= 1),
      '10 ± 1 each',
      20 * LEASE,
      100,
    );

    // Stable: each follower has asked since the last hand-over, and knows who holds what.
    await clock.advance(LEASE);
    const crashedAt = await crash(c);
    const survivors = () => [a, b].map((n) => n.kettle.leading().length);
    await clock.advanceUntil(
      () => survivors().reduce((sum, n) => sum + n, 0) === 30,
      'the survivors to lead all 30',
      LEASE,
      10,
    );
    expect(clock.now() - crashedAt).toBeLessThan(1_000);
    // Spread at once by where each election hashes among the living, then evened out by the
    // balancer's beats.
    const takeovers = [a, b].map((n) =>
      n.kettle.metrics().reduce((sum, stats) => sum + stats.takeovers, 0),
    );
    console.log('a crashed node of three:', { leading: survivors(), takeovers });
    expect(takeovers.reduce((sum, n) => sum + n, 0)).toBe(10);
    // Each survivor took some over at once: they saw the crash together, and the dead node no
    // longer counts where an election hashes.
    expect(Math.min(...takeovers)).toBeGreaterThanOrEqual(3);
    await clock.advanceUntil(
      () => survivors().every((count) => Math.abs(count - 15) <= 1),
      '15 ± 1 each',
      3 * LEASE,
      100,
    );
  });
});
