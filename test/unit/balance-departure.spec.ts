import { afterEach, describe, expect, it } from 'vitest';
import type { Kettle } from '../../lib/core/kettle.js';
import { MemoryStore } from '../../lib/core/store/memory.store.js';
import { BALANCE_LEASE as LEASE, BalanceFleet, jobs } from './balance-rig.js';

const PERIOD = LEASE / 3;
const ELECTIONS = jobs(30);

/** A node that goes away on purpose, by stop() or by leaving its balanced elections. */
describe('balance when a node goes away on purpose', () => {
  const fleet = new BalanceFleet();
  const { clock } = fleet;
  afterEach(() => fleet.stopAll());
  const node = (id: string, prefix: string) => fleet.node(id, prefix);

  async function threeAtTen(prefix: string): Promise<Kettle[]> {
    const a = node('a', prefix);
    await clock.advance(100);
    const b = node('b', prefix);
    const c = node('c', prefix);
    await clock.advance(10 * LEASE);
    expect([a, b, c].map((kettle) => kettle.leading().length)).toEqual([10, 10, 10]);
    return [a, b, c];
  }

  /** The live nodes of the fleet, read without joining it (a ttl of 0 records nothing). */
  const fleetOf = async (prefix: string) =>
    (
      await new MemoryStore(prefix, clock).heartbeat(
        { nodeId: 'probe', leading: 0, balanced: 0, group: '', beats: 0, ageMs: 0 },
        0,
      )
    ).map((member) => member.nodeId);

  it('takes a node out of the fleet once it has left all its balanced elections', async () => {
    const prefix = `balance-departure-${Math.random()}:`;
    const [, , c] = await threeAtTen(prefix);
    const leaving = Promise.all(ELECTIONS.map((name) => c.leave(name)));
    await clock.advance(10);
    await leaving;
    // It beats no more: it should leave the fleet as a stop does, not linger a lease as led.
    await clock.advance(PERIOD);
    expect(await fleetOf(prefix)).not.toContain('c');
  });

  it('spreads the elections of a node that stops over the others without hand-overs', async () => {
    const prefix = `balance-departure-${Math.random()}:`;
    const [a, b, c] = await threeAtTen(prefix);
    const from = clock.now();
    const stopping = c.stop();
    fleet.nodes = [a, b];
    await clock.advance(10);
    await stopping;
    await clock.advance(PERIOD / 2);
    const rightAfter = [a.leading().length, b.leading().length];
    await clock.advance(5 * LEASE);
    const handedOver = fleet.handedOverSince(from);
    console.log('c stops: a / b right after', rightAfter, 'then', handedOver, 'hand-overs');
    // Its 10 are released together while a and b still count c in the fleet: taken about evenly,
    // next to none should have to move again.
    expect(handedOver).toBeLessThanOrEqual(2);
  });
});
