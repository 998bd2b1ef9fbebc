import { randomBytes } from 'node:crypto';

const SEPARATOR = '#';
/** A connection token is 16 hex digits, after this mark (CONNECTION_TOKEN in scripts.ts). */
const TOKEN_MARK = '@';
const TOKEN = /@([0-9a-f]{16}):\d+$/;

/**
 * A lease value: the holder's node id, an unguessable token new for every leadership, and the
 * lease's TTL (`billing-1#<32 hex>:10000`). The TTL lets a script that overwrote a value it
 * then found was another node's put it back with no shorter a life than that holder gives it
 * (LEASES in scripts.ts).
 *
 * With `connection` (crashDetection 'connection'), the holder's connection token comes before
 * the TTL (`billing-1#<32 hex>@<16 hex>:10000`): while no connection of the holder listens on
 * that token's channel, another node may take the lease over (docs/CRASH-DETECTION.md).
 */
export function newLease(nodeId: string, ttlMs: number, connection?: string): string {
  const token = connection === undefined ? '' : `${TOKEN_MARK}${connection}`;
  return `${nodeId}${SEPARATOR}${randomBytes(16).toString('hex')}${token}:${Math.max(1, Math.round(ttlMs))}`;
}

/** The connection token inside a lease value, if it carries one. */
export function connectionOf(lease: string): string | undefined {
  return TOKEN.exec(lease)?.[1];
}

/** The node id inside a lease value. */
export function holderOf(lease: string): string {
  const at = lease.lastIndexOf(SEPARATOR);
  return at < 0 ? lease : lease.slice(0, at);
}
