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

  it('hands busy elections over after a few beats when none is idle, and takes a node that joins in', async () => {
    const prefix = `balance-busy-${Math.random()}:`;
    const a = node('a', prefix);
    await clock.advance(2000);
    const b = node('b', prefix);
    await clock.advance(5 * LEASE);
    // a led all 36; its 20 loops are never idle, yet some went to b after a few beats: 18 / 18.
    expect([a.leading().length, b.leading().length]).toEqual([18, 18]);

    const c = node('c', prefix);
    await clock.advance(20 * LEASE);
    const counts = [a, b, c].map((kettle) => kettle.leading().length);
    console.log('a: 20 busy loops, b: 16 idle ticks, c joins; after 20 leases:', counts);
    // The share is 12 each.
    expect(counts.every((count) => Math.abs(count - 12) <= 1)).toBe(true);
  });
});
