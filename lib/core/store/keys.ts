import { invalidOption } from '../kettle.messages.js';

export const DEFAULT_KEY_PREFIX = 'kettle:';

/** What one election keeps in Redis. */
export type ElectionKeyKind = 'lock' | 'term' | 'lastrun' | 'slot';

/**
 * The name as it stands in the hash tag: `{` → `%7B`, `}` → `%7D`, and `%` → `%25` only where it
 * starts one of these three codes. A brace in the tag would end it early (`}x` would make it
 * empty: Cluster then hashes each whole key, and an election's keys land in different slots).
 * Escaping those `%` keeps two names from sharing a key (every other `%` reads as itself); the
 * other `%` stay as they are so that a name such as `acme%20corp` keeps the key that nodes of
 * every version use for it.
 */
export function hashTagOf(name: string): string {
  return name.replace(
    /[{}]|%(?=25|7B|7D)/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `kettle:{billing}:lock`: the hash tag keeps one election's keys in one Cluster slot. */
export function electionKey(keyPrefix: string, name: string, kind: ElectionKeyKind): string {
  return `${keyPrefix}{${hashTagOf(name)}}:${kind}`;
}

/**
 * The last claimed slot of a schedule: the election's own (`kettle:{billing}:slot`), or one of a
 * guarded method's (`kettle:{billing}:slot:Reports.daily`), under the election's hash tag.
 */
export function slotKey(keyPrefix: string, name: string, key?: string): string {
  const own = electionKey(keyPrefix, name, 'slot');
  return key === undefined ? own : `${own}:${key}`;
}

/**
 * Cluster hashes the part of a key between its first `{` and the next `}`, unless that part is
 * empty. A prefix whose first `{` is directly followed by `}` makes it empty for every key, so
 * it is refused. Any other prefix still gives all keys of one election one tag: one inside the
 * prefix (then every election shares its slot), or one that runs from the prefix's `{` into the
 * election's own tag.
 */
export function checkKeyPrefix(option: string, keyPrefix: string): string {
  const open = keyPrefix.indexOf('{');
  if (open >= 0 && keyPrefix[open + 1] === '}') {
    throw new TypeError(
      invalidOption(
        option,
        keyPrefix,
        'a prefix whose first "{" is not directly followed by "}" (an empty hash tag: Redis Cluster would put the keys of one election in different slots)',
      ),
    );
  }
  return keyPrefix;
}

/**
 * `kettle:node:{web-1}`: where a node announces itself, to notice another process with its id.
 * Not an election's key (those start with `{` after the prefix), and a key of its own on Cluster.
 */
export function nodeKey(keyPrefix: string, nodeId: string): string {
  return `${keyPrefix}node:{${hashTagOf(nodeId)}}`;
}

/**
 * `kettle:fleet`: the live nodes of `balance` and what each leads. One key for the whole fleet
 * (one slot on Cluster); not an election's key, for those start with `{` after the prefix.
 */
export function fleetKey(keyPrefix: string): string {
  return `${keyPrefix}fleet`;
}

/**
 * `kettle:alive:`: the channels a node's subscriber listens on while it lives, one per connection
 * token (`kettle:alive:<16 hex>`); a lease that carries the token points at it (lease.ts).
 */
export function connectionChannelPrefix(keyPrefix: string): string {
  return `${keyPrefix}alive:`;
}
