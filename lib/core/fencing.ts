import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { MasterContext } from './interfaces/master-context.interface.js';
import { invalidFence } from './kettle.messages.js';

/**
 * KEYS: the resource (a hash with fields `term` and `value`). ARGV: term, value.
 * Returns 1 when written, 0 when refused.
 * Writes only when the term is at least the highest one the resource has accepted, so that a
 * stale master, paused past its lease, cannot overwrite what a newer master wrote.
 */
export const FENCED_SET = `local last = tonumber(redis.call('HGET', KEYS[1], 'term') or '0')
if tonumber(ARGV[1]) < last then
  return 0
end
redis.call('HSET', KEYS[1], 'term', ARGV[1], 'value', ARGV[2])
return 1`;

const FENCED_SET_SHA = createHash('sha1').update(FENCED_SET).digest('hex');

/** What `fencedGet` reads: the value of a fenced resource and the term that wrote it. */
export interface FencedValue {
  readonly term: number;
  readonly value: string;
}

/**
 * Runs a script by its SHA1 (EVALSHA), so that its body crosses the network only when the server
 * does not have it yet: after a restart, a SCRIPT FLUSH, or on a Cluster node not asked before.
 * Then EVAL sends it once, and caches it there.
 */
async function runScript(
  client: Redis | Cluster,
  script: string,
  sha: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    return client.eval(script, keys.length, ...keys, ...args);
  }
}

/**
 * Stores `value` in the hash `key` (fields `term` and `value`) unless a write with a higher term
 * came first: the fencing check of a resource in Redis. Returns whether the write was taken. Read
 * it back with `fencedGet`. Use it, or the same check in your own store
 * (`UPDATE ... WHERE fencing_token <= $term` in SQL, on a `bigint` column: a term is about the
 * server's clock in milliseconds, too big for a 32-bit integer).
 *
 * Pass the `MasterContext`: then nothing is sent (false) once its `leaseValid()` is false. The
 * resource alone refuses a stale write only after a newer master has written to it; this refuses
 * it as soon as the lease is over on this node's clock. A bare term is checked by the resource only;
 * a term that is not a number (a string from a bigint column) is converted, and one that converts to
 * no number is refused with a TypeError. The script is sent by its SHA1 (EVALSHA), in full only
 * when the server does not have it yet.
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
  return (await runScript(client, FENCED_SET, FENCED_SET_SHA, [key], [term, value])) === 1;
}

/**
 * Reads what `fencedSet` wrote to `key`: the value and the term of the write that was taken, or
 * null when nothing was. One HMGET, atomic on its own: no script. (A plain GET of the key fails
 * with WRONGTYPE: it is a hash.)
 */
export async function fencedGet(client: Redis | Cluster, key: string): Promise<FencedValue | null> {
  const [term, value] = await client.hmget(key, 'term', 'value');
  if (term == null || value == null) return null;
  return { term: Number(term), value };
}
