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
