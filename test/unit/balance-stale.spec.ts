import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/core/utils/clock.js';
import { BALANCE_LEASE as LEASE, BalanceFleet, jobs } from './balance-rig.js';

const ELECTIONS = jobs(30);

/**
 * A node that dies right after it started (a crash loop, a pod killed during its boot) leaves a
 * record in the fleet that leads nothing for up to a lease: the live nodes should not hand their
 * elections to each other to fill that gap, which no live node can fill.
 */
describe('balance with a dead node still in the fleet', () => {
  const fleet = new BalanceFleet();
  const { clock } = fleet;
  afterEach(() => fleet.stopAll());
  const node = (id: string, prefix: string, nodeClock?: Clock) =>
    fleet.node(id, prefix, { clock: nodeClock });

  // `phaseMs`: when c starts within a's and b's beat period; its record then ends as late in theirs.
  it.each([
    ['beats once', 1, 5, 0],
    ['beats twice, takes nothing', 2 * 1000 + 1, 10, 0],
    ['beats twice, takes nothing, a tenth of a period later', 2 * 1000 + 1, 10, 100],
  ])(
    'two live nodes at 15 / 15 while a node that %s ages out: at most a round or two of hand-overs',
    async (_, livesMs, most, phaseMs) => {
      const prefix = `balance-stale-${Math.random()}:`;
      const a = node('a', prefix);
      await clock.advance(100);
      const b = node('b', prefix);
      await clock.advance(10 * LEASE);
      expect([a.leading().length, b.leading().length]).toEqual([15, 15]);
      await clock.advance(phaseMs);

      // Node c starts, beats once (leading 0), and dies: none of its timers fires again.
      const dying = fleet.dyingClock();
      const c = node('c', prefix, dying.clock);
      // c leads nothing: b and a hold every lease. Its elections stay followers until it dies.
      await clock.advance(livesMs);
      dying.die();
      expect(c.leading()).toEqual([]);

      const from = clock.now();
      let longestLeaderlessMs = 0;
      const leaderlessSince = new Map<string, number>();
      for (let t = 0; t < 2 * LEASE; t += 10) {
        await clock.advance(10);
        for (const name of ELECTIONS) {
          if (a.isMaster(name) || b.isMaster(name)) leaderlessSince.delete(name);
          else if (!leaderlessSince.has(name)) leaderlessSince.set(name, clock.now());
          else
            longestLeaderlessMs = Math.max(
              longestLeaderlessMs,
              clock.now() - leaderlessSince.get(name)!,
            );
        }
      }
      const handedOver = fleet.handedOverSince(from);
      console.log('a dead node in the fleet for a lease:', { handedOver, longestLeaderlessMs });
      // c's 10 could only go from a to b and back: one round (5) is of any use, and a node that
      // hands over to no avail waits longer before it tries again.
      expect(handedOver).toBeLessThanOrEqual(most);
      expect(a.leading().length + b.leading().length).toBe(30);
    },
  );

  it('splits the elections of a node that dies while leading 10 between the two left, by hash', async () => {
    const prefix = `balance-stale-${Math.random()}:`;
    const dying = fleet.dyingClock();
    const a = node('a', prefix);
    await clock.advance(100);
    const b = node('b', prefix);
    const c = node('c', prefix, dying.clock);
    await clock.advance(10 * LEASE);
    expect([a, b, c].map((kettle) => kettle.leading().length)).toEqual([10, 10, 10]);

    // c dies: no timer of it fires again, nothing is released; its leases end after a lease.
    dying.die();
    const from = clock.now();
    await clock.advanceUntil(
      () => ELECTIONS.every((name) => a.isMaster(name) || b.isMaster(name)),
      'a and b to lead every election',
      2 * LEASE,
      10,
    );
    const absorbed = [a.leading().length, b.leading().length];
    await clock.advance(3 * LEASE);
    const handedOver = fleet.handedOverSince(from);
    console.log(
      'c dies leading 10: a / b on absorbing',
      absorbed,
      'then',
      handedOver,
      'hand-overs',
    );
    // Each took the elections that hash to it, not whichever heard first.
    expect(Math.min(...absorbed)).toBeGreaterThanOrEqual(13);
    expect([a.leading().length, b.leading().length]).toEqual([15, 15]);
  });
});
