import type { Cluster, Redis } from 'ioredis';

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
 * check of a resource in Redis. Pass `MasterContext.term`. Returns whether the write was taken.
 * Use it, or the same check in your own store (`UPDATE ... WHERE term <= $term` in SQL).
 */
export async function fencedSet(
  client: Redis | Cluster,
  key: string,
  value: string,
  term: number,
): Promise<boolean> {
  return (await client.eval(FENCED_SET, 1, key, term, value)) === 1;
}
