import { afterEach, describe, expect, it } from 'vitest';
import { Kettle } from '../../lib/core/kettle.js';
import type { MasterContext } from '../../lib/core/interfaces/master-context.interface.js';
import { MemoryStore } from '../../lib/core/store/memory.store.js';
import { ManualClock } from './manual-clock.js';

const LEASE = 3000;
/** Jobs that run for as long as this node leads (a consumer loop): never idle, never handed over. */
const LOOPS = Array.from({ length: 20 }, (_, i) => `loop-${i}`);
/** Jobs that end at once: idle between runs. */
const TICKS = Array.from({ length: 16 }, (_, i) => `tick-${i}`);
const quiet = { log() {}, warn() {}, error() {}, debug() {} };

const untilAborted = (context: MasterContext) =>
  new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()));

/**
 * Balance hands over idle elections only. A node whose surplus is all busy cannot hand anything
 * over; the nodes that can should not wait on it.
 */
describe('balance when the node furthest over runs jobs that never end', () => {
  const clock = new ManualClock();
  let nodes: Kettle[] = [];
  afterEach(async () => {
    const stopping = Promise.all(nodes.map((node) => node.stop()));
    await clock.advance(20_000);
    await stopping;
    nodes = [];
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
    for (const name of LOOPS) kettle.join(name, { run: untilAborted });
    for (const name of TICKS) kettle.join(name, { run: () => undefined });
    kettle.start();
    nodes.push(kettle);
    return kettle;
  }

  it('lets a node with idle elections over its share hand them to a node that joins', async () => {
    const prefix = `balance-busy-${Math.random()}:`;
    const a = node('a', prefix);
    await clock.advance(2000);
    const b = node('b', prefix);
    await clock.advance(5 * LEASE);
    // a kept its 20 loops (busy), b took the 16 ticks: 20 / 16 of 36.
    expect([a.leading().length, b.leading().length]).toEqual([20, 16]);

    const c = node('c', prefix);
    await clock.advance(20 * LEASE);
    const counts = [a, b, c].map((kettle) => kettle.leading().length);
    console.log('a: 20 busy loops, b: 16 idle ticks, c joins; after 20 leases:', counts);
    // The share is 12: b has 4 idle elections over it, which c can take.
    expect(c.leading().length).toBeGreaterThanOrEqual(4);
  });
});
