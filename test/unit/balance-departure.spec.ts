import { afterEach, describe, expect, it } from 'vitest';
import { Kettle } from '../../lib/core/kettle.js';
import type { LeadershipChange } from '../../lib/core/interfaces/leadership-change.interface.js';
import { MemoryStore } from '../../lib/core/store/memory.store.js';
import { ManualClock } from './manual-clock.js';

const LEASE = 3000;
const PERIOD = LEASE / 3;
const ELECTIONS = Array.from({ length: 30 }, (_, i) => `job-${i}`);
const quiet = { log() {}, warn() {}, error() {}, debug() {} };

/** A node that goes away on purpose, by stop() or by leaving its balanced elections. */
describe('balance when a node goes away on purpose', () => {
  const clock = new ManualClock();
  let nodes: Kettle[] = [];
  const changes: Array<LeadershipChange & { node: string; at: number }> = [];
  afterEach(async () => {
    const stopping = Promise.all(nodes.map((node) => node.stop()));
    await clock.advance(20_000);
    await stopping;
    nodes = [];
    changes.length = 0;
  });

  function node(id: string, prefix: string): Kettle {
    const kettle = new Kettle({
      nodeId: id,
      store: new MemoryStore(prefix, clock),
      leaseTtl: LEASE,
      interval: 1000,
      balance: true,
      logger: quiet,
      shutdownTimeout: 1000,
    });
    kettle.clock = clock;
    for (const name of ELECTIONS) kettle.join(name, { run: () => undefined });
    kettle.onChange((change) => changes.push({ ...change, node: id, at: clock.now() }));
    kettle.start();
    nodes.push(kettle);
    return kettle;
  }

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
    nodes = [a, b];
    await clock.advance(10);
    await stopping;
    await clock.advance(PERIOD / 2);
    const rightAfter = [a.leading().length, b.leading().length];
    await clock.advance(5 * LEASE);
    const handedOver = changes.filter((c) => c.reason === 'rebalanced' && c.at > from).length;
    console.log('c stops: a / b right after', rightAfter, 'then', handedOver, 'hand-overs');
    // Its 10 are released together while a and b still count c in the fleet: taken about evenly,
    // next to none should have to move again.
    expect(handedOver).toBeLessThanOrEqual(2);
  });
});
