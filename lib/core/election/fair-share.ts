import type { FleetMember } from '../store/kettle-store.interface.js';

/**
 * How many balanced elections each node should lead: E / N rounded up for the E mod N nodes that
 * lead the most now (ties: the lowest id), down for the others. N counts the live nodes that take
 * part in any balanced election, E is the most any of them takes part in (the nodes usually join
 * the same ones). Ranking by what each leads now keeps hand-overs to what evening out needs.
 */
export function fairTargets(members: readonly FleetMember[]): Map<string, number> {
  const active = members
    .filter((member) => member.balanced > 0)
    .sort((a, b) => b.leading - a.leading || (a.nodeId < b.nodeId ? -1 : 1));
  const targets = new Map<string, number>();
  if (active.length === 0) return targets;
  const elections = Math.max(...active.map((member) => member.balanced));
  const floor = Math.floor(elections / active.length);
  const roundedUp = elections % active.length;
  active.forEach((member, rank) => targets.set(member.nodeId, floor + (rank < roundedUp ? 1 : 0)));
  return targets;
}

/** What node `self` should lead, as it stands now: Infinity when it takes part in none. */
export function targetOf(members: readonly FleetMember[], self: FleetMember): number {
  return fairTargets(withSelf(members, self)).get(self.nodeId) ?? Infinity;
}

/**
 * How many of its elections node `self` should hand over, as it stands now: what it leads over its
 * target, no more than the other nodes lead under theirs (someone must be there to take each one:
 * a node that `canTake`, by default one that has beaten twice at least),
 * and nothing unless it is the node furthest over its target (ties: the lowest id), so that two
 * nodes do not fill one node's gap together from the same view of the fleet.
 */
export function surplusOf(
  members: readonly FleetMember[],
  self: FleetMember,
  canTake: (member: FleetMember) => boolean = (member) => member.beats >= 2,
): number {
  const fleet = withSelf(members, self);
  const targets = fairTargets(fleet);
  const over = (member: FleetMember) => member.leading - (targets.get(member.nodeId) ?? Infinity);
  const mine = over(self);
  if (!(mine > 0)) return 0;
  let gap = 0;
  for (const other of fleet) {
    if (other.nodeId === self.nodeId || !targets.has(other.nodeId)) continue;
    const theirs = over(other);
    if (theirs > mine || (theirs === mine && other.nodeId < self.nodeId)) return 0;
    // A node seen once, or not lately, may be dead: nothing is handed to it, or the others would
    // pass its share to and fro until its record lapses.
    if (canTake(other)) gap += Math.max(0, -theirs);
  }
  return Math.min(mine, gap);
}

/** The fleet as a store answered, with this node as it stands now rather than as it was recorded. */
export function withSelf(members: readonly FleetMember[], self: FleetMember): FleetMember[] {
  return [...members.filter((member) => member.nodeId !== self.nodeId), self];
}

/**
 * The node of `nodeIds` that election `name` goes to first (rendezvous hashing: the highest hash
 * of name and node id). Every node computes the same from the same view, so that elections
 * released together spread over the nodes that lack some instead of all going to the fastest.
 */
export function preferredNode(name: string, nodeIds: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestHash = -1;
  for (const nodeId of nodeIds) {
    const hash = fnv1a(`${name}\n${nodeId}`);
    if (hash > bestHash || (hash === bestHash && best !== undefined && nodeId < best)) {
      best = nodeId;
      bestHash = hash;
    }
  }
  return best;
}

/**
 * Where `nodeId` comes in the order in which election `name` goes to `nodeIds` (preferredNode's
 * order): 0 for the preferred node, 1 for the next, and so on. When the first has gone, the next
 * takes the election rather than whichever node's timer fires first.
 */
export function preferenceRank(name: string, nodeIds: readonly string[], nodeId: string): number {
  const own = fnv1a(`${name}\n${nodeId}`);
  let rank = 0;
  for (const other of nodeIds) {
    if (other === nodeId) continue;
    const hash = fnv1a(`${name}\n${other}`);
    if (hash > own || (hash === own && other < nodeId)) rank++;
  }
  return rank;
}

/** 32-bit FNV-1a, with a final mix so that names differing only at the end spread too. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash >>> 0;
}

/** Hashes in a group signature: their share that two signatures agree on estimates the overlap. */
const SIGNATURE_HASHES = 16;

/**
 * The signature of a set of balanced elections (MinHash): for each of 16 hash functions, the
 * least hash of any name in the set, in hex. Two sets' signatures agree at about the share of
 * their names they have in common (|A ∩ B| / |A ∪ B|), whatever their size: nodes a deploy apart
 * (an election more) stay alike, nodes of two services sharing a prefix do not.
 */
export function electionsGroup(names: Iterable<string>): string {
  const mins = Array.from({ length: SIGNATURE_HASHES }, () => 0xffffffff);
  for (const name of names) {
    const base = fnv1a(name);
    for (let i = 0; i < SIGNATURE_HASHES; i++) {
      const hash = mix(base ^ Math.imul(i + 1, 0x9e3779b9));
      if (hash < mins[i]) mins[i] = hash;
    }
  }
  return mins.map((min) => min.toString(16).padStart(8, '0')).join('');
}

/** The share of two signatures' hashes that agree: about the overlap of their sets, 0 to 1. */
export function groupSimilarity(a: string, b: string): number {
  if (a.length !== b.length || a.length === 0) return a === b ? 1 : 0;
  let same = 0;
  for (let i = 0; i < a.length; i += 8) if (a.slice(i, i + 8) === b.slice(i, i + 8)) same++;
  return same / (a.length / 8);
}

function mix(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
