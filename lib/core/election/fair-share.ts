import type { FleetMember } from '../store/kettle-store.interface.js';

/**
 * How many balanced elections each node should lead: ⌈E / N⌉, with N the live nodes that take
 * part in any and E the most any of them takes part in (the nodes usually join the same ones).
 */
export function fairShare(members: readonly FleetMember[]): number {
  const active = members.filter((member) => member.balanced > 0);
  if (active.length === 0) return Infinity;
  const elections = Math.max(...active.map((member) => member.balanced));
  return Math.ceil(elections / active.length);
}

/**
 * How many of its elections node `self` should hand over, as it stands now: what
 * it leads over its share, no more than the other nodes lead under theirs (someone must be there
 * to take each one), and nothing unless it is the node furthest over (ties: the lowest id), so
 * that two nodes do not fill one node's gap together from the same view of the fleet.
 */
export function surplusOf(members: readonly FleetMember[], self: FleetMember): number {
  const { nodeId, leading } = self;
  const fleet = withSelf(members, self);
  const share = fairShare(fleet);
  const over = leading - share;
  if (!(over > 0)) return 0;
  let gap = 0;
  for (const other of fleet) {
    if (other.nodeId === nodeId || other.balanced === 0) continue;
    const otherOver = other.leading - share;
    if (otherOver > over || (otherOver === over && other.nodeId < nodeId)) return 0;
    gap += Math.max(0, share - other.leading);
  }
  return Math.min(over, gap);
}

/** The fleet as a store answered, with this node as it stands now rather than as it was recorded. */
export function withSelf(members: readonly FleetMember[], self: FleetMember): FleetMember[] {
  return [...members.filter((member) => member.nodeId !== self.nodeId), self];
}
