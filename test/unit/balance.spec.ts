import { afterEach, describe, expect, it } from 'vitest';
import type { Kettle } from '../../lib/core/kettle.js';
import {
  electionsGroup,
  fairTargets,
  groupSimilarity,
  preferenceRank,
  preferredNode,
  surplusOf,
  targetOf,
} from '../../lib/core/election/fair-share.js';
import { BALANCE_LEASE as LEASE, BalanceFleet, jobs } from './balance-rig.js';

const ELECTIONS = jobs(30);

describe('fair share', () => {
  const member = (nodeId: string, leading: number, balanced = 30, beats = 2) => ({
    nodeId,
    leading,
    balanced,
    group: 'g',
    beats,
    ageMs: 0,
  });
  const targets = (...members: ReturnType<typeof member>[]) =>
    Object.fromEntries(fairTargets(members));

  it('is E / N, rounded up for the nodes that lead the most, over the nodes in any balanced election', () => {
    expect(targets(member('a', 0), member('b', 0), member('c', 0))).toEqual({
      a: 10,
      b: 10,
      c: 10,
    });
    expect(targets(member('a', 8), member('b', 8), member('c', 8), member('d', 6))).toEqual({
      a: 8,
      b: 8,
      c: 7,
      d: 7,
    });
    expect(targets(member('a', 0, 31), member('b', 5, 31), member('c', 0, 31))).toEqual({
      a: 10,
      b: 11,
      c: 10,
    });
    expect(targets(member('a', 0), member('b', 0, 0))).toEqual({ a: 30 });
    expect(targets()).toEqual({});
  });

  it('hands over what a node leads over its share, no more than the others lack', () => {
    const fleet = [member('a', 30), member('b', 0), member('c', 0)];
    expect(surplusOf(fleet, member('a', 30))).toBe(20);
    // Only 5 missing elsewhere: 5, not 10.
    expect(surplusOf([member('a', 20), member('b', 5), member('c', 10)], member('a', 20))).toBe(5);
    // At its share, or nobody under theirs: nothing.
    expect(surplusOf([member('a', 10), member('b', 10), member('c', 10)], member('a', 10))).toBe(0);
    expect(surplusOf([member('a', 11), member('b', 10)], member('a', 11, 21))).toBe(0);
  });

  it('evens out a split that does not divide: 8 / 8 / 8 / 6 gives one, to end at 8 / 8 / 7 / 7', () => {
    const fleet = [member('a', 8), member('b', 8), member('c', 8), member('d', 6)];
    expect(fleet.map((self) => surplusOf(fleet, self))).toEqual([0, 0, 1, 0]);
    const settled = [member('a', 8), member('b', 8), member('c', 7), member('d', 7)];
    expect(settled.map((self) => surplusOf(settled, self))).toEqual([0, 0, 0, 0]);
    expect(targetOf(settled, member('d', 7))).toBe(7);
    expect(targetOf(fleet, member('d', 6))).toBe(7);
  });

  it('lets only the node furthest over hand over, ties to the lowest id', () => {
    const fleet = [member('a', 15), member('b', 15), member('c', 0)];
    expect(surplusOf(fleet, member('a', 15))).toBe(5);
    expect(surplusOf(fleet, member('b', 15))).toBe(0);
    const uneven = [member('a', 12), member('b', 18), member('c', 0)];
    expect(surplusOf(uneven, member('a', 12))).toBe(0);
    expect(surplusOf(uneven, member('b', 18))).toBe(8);
  });

  it('sends elections released together to the nodes that lack some, about evenly, the same on every node', () => {
    const names = Array.from({ length: 300 }, (_, i) => `job-${i}`);
    const first = names.map((name) => preferredNode(name, ['b', 'c']));
    const toB = first.filter((node) => node === 'b').length;
    expect(toB).toBeGreaterThan(120);
    expect(toB).toBeLessThan(180);
    // Whatever order a node lists the fleet in.
    expect(names.map((name) => preferredNode(name, ['c', 'b']))).toEqual(first);
    expect(preferredNode('job-1', [])).toBeUndefined();
  });

  it('orders the nodes for each election the same on every node: the next after the first, when the first has gone, spread too', () => {
    const names = Array.from({ length: 300 }, (_, i) => `job-${i}`);
    const nodes = ['a', 'b', 'c'];
    for (const name of names) {
      const ranks = nodes.map((node) => preferenceRank(name, nodes, node));
      expect([...ranks].sort()).toEqual([0, 1, 2]);
      expect(nodes[ranks.indexOf(0)]).toBe(preferredNode(name, nodes));
      expect(nodes.map((node) => preferenceRank(name, ['c', 'a', 'b'], node))).toEqual(ranks);
    }
    // The elections that went first to c go next to a or b, about evenly.
    const ofC = names.filter((name) => preferredNode(name, nodes) === 'c');
    const nextA = ofC.filter((name) => preferenceRank(name, nodes, 'a') === 1).length;
    expect(nextA).toBeGreaterThan(ofC.length * 0.3);
    expect(nextA).toBeLessThan(ofC.length * 0.7);
  });

  it('hands nothing to a node seen once, which may have died right after it started', () => {
    const fleet = [member('a', 15), member('b', 15), member('c', 0, 30, 1)];
    expect(surplusOf(fleet, member('a', 15))).toBe(0);
    const again = [member('a', 15), member('b', 15), member('c', 0, 30, 2)];
    expect(surplusOf(again, member('a', 15))).toBe(5);
  });

  it('signs a set of elections so that sets a deploy apart stay alike and other services do not', () => {
    const jobs = Array.from({ length: 30 }, (_, i) => `job-${i}`);
    const same = electionsGroup(jobs);
    expect(electionsGroup([...jobs].reverse())).toBe(same);
    expect(groupSimilarity(same, electionsGroup([...jobs, 'extra']))).toBeGreaterThanOrEqual(0.7);
    expect(groupSimilarity(same, electionsGroup([...jobs, `node-a`]))).toBeGreaterThanOrEqual(0.7);
    const billing = Array.from({ length: 30 }, (_, i) => `billing-${i}`);
    expect(groupSimilarity(same, electionsGroup(billing))).toBeLessThan(0.2);
    expect(groupSimilarity(same, electionsGroup(jobs.slice(0, 10)))).toBeLessThan(0.7);
  });

  it('counts this node as it stands now, not as it was recorded', () => {
    // Recorded leading 30, but 20 were handed over since: nothing more to hand.
    expect(surplusOf([member('a', 30), member('b', 10), member('c', 10)], member('a', 10))).toBe(0);
  });
});

/** Three nodes of one process on one controlled clock and one store: time moves only in the test. */
describe('balance on a controlled clock', () => {
  const fleet = new BalanceFleet();
  const { clock, changes } = fleet;
  afterEach(() => fleet.stopAll());
  const node = (id: string, prefix: string, balance = true) => fleet.node(id, prefix, { balance });

  const counts = (kettles: Kettle[]) => kettles.map((kettle) => kettle.leading().length);
  const everyElectionLed = (kettles: Kettle[]) =>
    ELECTIONS.every((name) => kettles.filter((k) => k.isMaster(name)).length === 1);
  const spreadWithin = (kettles: Kettle[], share: number) => () =>
    everyElectionLed(kettles) && counts(kettles).every((n) => Math.abs(n - share) <= 1);

  it('spreads 30 elections over 3 nodes, absorbs a stopped one, and takes a new one in', async () => {
    const prefix = `balance-${Math.random()}:`;
    const a = node('a', prefix);
    await clock.advance(100);
    expect(counts([a])).toEqual([30]);
    const b = node('b', prefix);
    const c = node('c', prefix);
    await clock.advanceUntil(spreadWithin([a, b, c], 10), '10 ± 1 each', 5 * LEASE, 10);

    // Stable: no hand-over in a minute.
    const before = changes.length;
    await clock.advance(60_000);
    expect(changes.length - before).toBe(0);
    expect(everyElectionLed([a, b, c])).toBe(true);

    const stopping = c.stop();
    await clock.advanceUntil(spreadWithin([a, b], 15), '15 ± 1 each', 5 * LEASE, 10);
    await stopping;

    const d = node('d', prefix);
    await clock.advanceUntil(spreadWithin([a, b, d], 10), '10 ± 1 each again', 5 * LEASE, 10);
    const handedOver = changes.filter((change) => change.reason === 'rebalanced');
    expect(handedOver.length).toBeGreaterThan(0);
  });

  it('spreads 30 elections over 4 nodes within one of each other: 8 / 8 / 7 / 7', async () => {
    const prefix = `balance-${Math.random()}:`;
    const a = node('a', prefix);
    await clock.advance(100);
    const others = ['b', 'c', 'd'].map((id) => node(id, prefix));
    const all = [a, ...others];
    await clock.advanceUntil(
      () => everyElectionLed(all) && Math.max(...counts(all)) - Math.min(...counts(all)) <= 1,
      'within one of each other',
      10 * LEASE,
      10,
    );
    expect(counts(all).sort()).toEqual([7, 7, 8, 8]);
    const before = changes.length;
    await clock.advance(60_000);
    expect(changes.length - before).toBe(0);
  });

  it('leaves an election that opts out where it is', async () => {
    const prefix = `balance-${Math.random()}:`;
    const a = node('a', prefix);
    a.join('pinned', { balance: false, run: () => undefined });
    await clock.advance(100);
    const b = node('b', prefix);
    b.join('pinned', { balance: false, run: () => undefined });
    await clock.advanceUntil(spreadWithin([a, b], 15), '15 ± 1 each', 5 * LEASE, 10);
    expect(a.isMaster('pinned')).toBe(true);
  });
});
