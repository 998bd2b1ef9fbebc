import type { Cluster, Redis } from 'ioredis';
import type { MasterContext } from './interfaces/master-context.interface.js';
import { invalidFence } from './kettle.messages.js';

/**
 * KEYS: the resource (a hash). ARGV: term, value.
 * Writes only when the term is at least the highest one the resource has accepted, so that a
 * stale master, paused past its lease, cannot overwrite what a newer master wrote.
 */
export const FENCED_SET = `local last = tonumber(redis.call('HGET', KEYS[1], 'term') or '0')
if tonumber(ARGV[1]) < last then
  return 0
end
redis.call('HSET', KEYS[1], 'term', ARGV[1], 'value', ARGV[2])
return 1`;

/**
 * Stores `value` in the hash `key` unless a write with a higher term came first: the fencing
 * check of a resource in Redis. Returns whether the write was taken. Use it, or the same check in
 * your own store (`UPDATE ... WHERE term <= $term` in SQL).
 *
 * Pass the `MasterContext`: then nothing is sent (false) once its `leaseValid()` is false. The
 * resource alone refuses a stale write only after a newer master has written to it; this refuses
 * it as soon as the lease is over on this node's clock. A bare term is checked by the resource only;
 * a term that is not a number (a string from a bigint column) is converted, and one that converts to
 * no number is refused with a TypeError.
 */
export async function fencedSet(
  client: Redis | Cluster,
  key: string,
  value: string,
  fence: number | Pick<MasterContext, 'term' | 'leaseValid'>,
): Promise<boolean> {
  // Only an object is a context: a term can arrive as a string (a bigint read back as text).
  const context = typeof fence === 'object' && fence !== null ? fence : undefined;
  if (context && !context.leaseValid()) return false;
  const term = context ? context.term : Number(fence);
  if (fence == null || !Number.isFinite(term)) throw new TypeError(invalidFence(fence));
  return (await client.eval(FENCED_SET, 1, key, term, value)) === 1;
}
