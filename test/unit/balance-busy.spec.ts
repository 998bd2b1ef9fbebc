import { afterEach, describe, expect, it } from 'vitest';
import type { Kettle } from '../../lib/core/kettle.js';
import type { MasterContext } from '../../lib/core/interfaces/master-context.interface.js';
import { BALANCE_LEASE as LEASE, BalanceFleet, jobs } from './balance-rig.js';

/** Jobs that run for as long as this node leads (a consumer loop): never idle. */
const LOOPS = jobs(20, 'loop');
/** Jobs that end at once: idle between runs. */
const TICKS = jobs(16, 'tick');

const untilAborted = (context: MasterContext) =>
  new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()));

/**
 * Balance hands over idle elections first. A node whose surplus is all busy hands busy ones over
 * after a few beats; the nodes that can hand idle ones over do not wait on it.
 */
describe('balance when the node furthest over runs jobs that never end', () => {
  const fleet = new BalanceFleet();
  const { clock } = fleet;
  afterEach(() => fleet.stopAll());

  function node(id: string, prefix: string): Kettle {
    const kettle = fleet.node(id, prefix, { elections: LOOPS, run: untilAborted });
    for (const name of TICKS) kettle.join(name, { run: () => undefined });
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
