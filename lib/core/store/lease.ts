import { randomBytes } from 'node:crypto';

const SEPARATOR = '#';

/**
 * A lease value: the holder's node id, an unguessable token new for every leadership, and the
 * lease's TTL (`billing-1#<32 hex>:10000`). The TTL lets a script that overwrote a value it
 * then found was another node's put it back with no shorter a life than that holder gives it
 * (LEASES in scripts.ts).
 */
export function newLease(nodeId: string, ttlMs: number): string {
  return `${nodeId}${SEPARATOR}${randomBytes(16).toString('hex')}:${Math.max(1, Math.round(ttlMs))}`;
}

/** The node id inside a lease value. */
export function holderOf(lease: string): string {
  const at = lease.lastIndexOf(SEPARATOR);
  return at < 0 ? lease : lease.slice(0, at);
}
