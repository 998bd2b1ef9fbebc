import { afterEach, describe, expect, it } from 'vitest';
import type { Kettle } from '../../lib/core/kettle.js';
import { BALANCE_LEASE as LEASE, BalanceFleet, jobs } from './balance-rig.js';

const COMMON = jobs(30);

/**
 * Nodes whose balanced elections are mostly the same, not all: a node that also joins an election
 * of its own (the module's `balance: true` applies to every `join()`), or a rolling deploy whose
 * new version adds one. The elections they all take part in should still spread over them all.
 */
describe('balance with nodes whose balanced elections overlap', () => {
  const fleet = new BalanceFleet();
  const { clock } = fleet;
  afterEach(() => fleet.stopAll());
  const node = (id: string, prefix: string, elections: string[]) =>
    fleet.node(id, prefix, { elections });

  /** How many of the common elections each node leads. */
  const common = (kettles: Kettle[]) =>
    kettles.map((kettle) => kettle.leading().filter((name) => COMMON.includes(name)).length);

  it('gives its share of the common elections to a node that takes part in one more', async () => {
    const prefix = `balance-overlap-${Math.random()}:`;
    const a = node('a', prefix, COMMON);
    await clock.advance(100);
    const b = node('b', prefix, COMMON);
    const c = node('c', prefix, [...COMMON, 'extra']);
    await clock.advance(10 * LEASE);
    const counts = common([a, b, c]);
    console.log('a and b in 30 elections, c in the same 30 and one more:', counts);
    expect(counts.every((count) => Math.abs(count - 10) <= 1)).toBe(true);
  });

  it('spreads the common elections over nodes that each take part in one of their own', async () => {
    const prefix = `balance-overlap-${Math.random()}:`;
    const a = node('a', prefix, [...COMMON, 'own-a']);
    await clock.advance(100);
    const b = node('b', prefix, [...COMMON, 'own-b']);
    const c = node('c', prefix, [...COMMON, 'own-c']);
    await clock.advance(10 * LEASE);
    const counts = common([a, b, c]);
    console.log('30 common elections and one of its own on each node:', counts);
    expect(counts.every((count) => Math.abs(count - 10) <= 1)).toBe(true);
  });

  it('spreads the elections over the new nodes of a rolling deploy that adds one', async () => {
    const prefix = `balance-overlap-${Math.random()}:`;
    const a = node('a', prefix, COMMON);
    await clock.advance(100);
    node('b', prefix, COMMON);
    const c = node('c', prefix, COMMON);
    await clock.advance(10 * LEASE);
    // a, then b, replaced by the new version, which takes part in one more election.
    const replace = async (old: Kettle, id: string) => {
      const stopping = old.stop();
      await clock.advance(1000);
      await stopping;
      fleet.nodes = fleet.nodes.filter((kettle) => kettle !== old);
      return node(id, prefix, [...COMMON, 'new']);
    };
    const a2 = await replace(a, 'a2');
    await clock.advance(10 * LEASE);
    const b2 = await replace(
      fleet.nodes.find((kettle) => kettle.nodeId === 'b')!,
      'b2',
    );
    await clock.advance(10 * LEASE);
    const counts = [a2, b2, c].map((kettle) => kettle.leading().length);
    console.log(
      'new a2 and b2 next to old c, elections led:',
      counts,
      'common:',
      common([a2, b2, c]),
    );
    // Alike enough to balance together: none idles while another leads half (31 over 3).
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });
});
