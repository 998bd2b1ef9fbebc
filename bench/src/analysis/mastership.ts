import { decodeBits, type NodeStats } from '../nodes/protocol.js';

/**
 * Whether every election had exactly one master over a window, by the nodes' own account: each
 * node says which elections it leads at the start and at the end of the window, and how often its
 * leadership changed in between.
 */
export interface Mastership {
  /** Elections that two or more nodes said they lead, at the start or at the end (the larger). */
  shared: number;
  /** Elections that no node said it leads, at the start or at the end (the larger). */
  unled: number;
  /** Elections any node started or stopped leading during the window. */
  changes: number;
  /** Runs less than half an interval after the same election's run on the same node. */
  repeats: number;
}

/** How many of `elections` are in none, and in two or more, of the sets. */
export function overlap(
  sets: readonly string[],
  elections: number,
): { none: number; many: number } {
  const decoded = sets.map(decodeBits);
  let none = 0;
  let many = 0;
  for (let i = 0; i < elections; i++) {
    let holders = 0;
    for (const bits of decoded) if (((bits[i >> 3] ?? 0) >> (i & 7)) & 1) holders++;
    if (holders === 0) none++;
    if (holders > 1) many++;
  }
  return { none, many };
}

/** Undefined when a node did not answer, or answered without its sets (an older node program). */
export function mastership(
  before: ReadonlyArray<NodeStats | undefined>,
  after: ReadonlyArray<NodeStats | undefined>,
  elections: number,
): Mastership | undefined {
  const all = [...before, ...after];
  if (all.some((stats) => stats?.leadingBits === undefined)) return undefined;
  const start = overlap(
    before.map((stats) => stats!.leadingBits),
    elections,
  );
  const end = overlap(
    after.map((stats) => stats!.leadingBits),
    elections,
  );
  const delta = (field: 'leadChanges' | 'repeats') =>
    after.reduce((sum, stats, i) => sum + stats![field] - before[i]![field], 0);
  return {
    shared: Math.max(start.many, end.many),
    unled: Math.max(start.none, end.none),
    changes: delta('leadChanges'),
    repeats: delta('repeats'),
  };
}

export function exactlyOneMaster(m: Mastership): boolean {
  return m.shared === 0 && m.unled === 0 && m.changes === 0 && m.repeats === 0;
}
