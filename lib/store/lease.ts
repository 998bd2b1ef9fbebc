import { randomBytes } from 'node:crypto';

const SEPARATOR = '#';

/** A lease value: the holder's node id and an unguessable token, new for every leadership. */
export function newLease(nodeId: string): string {
  return `${nodeId}${SEPARATOR}${randomBytes(16).toString('hex')}`;
}

/** The node id inside a lease value. */
export function holderOf(lease: string): string {
  const at = lease.lastIndexOf(SEPARATOR);
  return at < 0 ? lease : lease.slice(0, at);
}

/**
 * The Redlock allowance for clock drift over one lease: 1 % of it plus 2 ms (Redis's expiry
 * precision). A holder counts its lease as `ttl - drift` from when it sent the command.
 */
export function clockDrift(leaseTtl: number): number {
  return Math.floor(leaseTtl * 0.01) + 2;
}
