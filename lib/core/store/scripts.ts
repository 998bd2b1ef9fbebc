/**
 * The Lua scripts behind RedisStore. Each one is atomic on the server. Every election's keys share
 * a hash tag (`{name}`, see keys.ts) so that a script's keys sit in one slot on Redis Cluster.
 */

/** Milliseconds on the Redis server's clock, so that the nodes' clocks need not agree. */
export const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * How long a term key outlives its term, on the clock of the server that holds it. A term is
 * never below that clock, so the key expires only once the clock has passed the term by this
 * much: the next term (at least the clock) is higher without it. It covers a clock set back by up
 * to this much after the key expired: a day, so that a clock off by whole hours (a hardware clock
 * kept in local time) is covered; docs/RELIABILITY.md argues the figure.
 */
export const TERM_KEY_LIFE_MS = 86_400_000;

/**
 * Sets the term key (KEYS[2]) to `term` (a Lua number), expiring `TERM_KEY_LIFE_MS` after the
 * server clock reaches it. Needs `now` (NOW_MS).
 */
export const SET_TERM = (term: string) =>
  `redis.call('SET', KEYS[2], string.format('%d', ${term}), 'PX', string.format('%d', math.max(${term} - now, 0) + ${TERM_KEY_LIFE_MS}))`;

/**
 * KEYS: lock, term. ARGV: lease, ttl ms.
 * Returns {1, term} when acquired, else {0, holder lease, remaining ttl ms}.
 * The new term is the last one plus one, but never less than the server clock (ms): a Redis that
 * restarted empty, or a replica promoted before it got the latest terms, must not hand out a term
 * already given (only a clock set back, or a new master's clock behind the old one's, could).
 */
export const ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  ${NOW_MS}
  local term = math.max((tonumber(redis.call('GET', KEYS[2])) or 0) + 1, now)
  ${SET_TERM('term')}
  return {1, term}
end
return {0, redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}`;

/** KEYS: lock. ARGV: lease, ttl ms. Returns 1 when extended. */
export const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/** KEYS: lock. ARGV: lease, channel, name. Returns 1 when released; followers hear it at once. */
export const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0`;

/**
 * KEYS: lock, last run. ARGV: lease, interval ms, ttl ms.
 * A claim renews the lease too (PEXPIRE), so a master that ticks at least as often as it renews
 * sends one command per interval instead of two.
 * Returns {-1, 0} when the lease is not the caller's, {0, wait ms} when this slot already ran,
 * {1, ms to next slot, slot} when the caller may run now (the slot: ms on the server's clock). Slots stay on their grid unless a whole
 * interval was missed; a last run in the future by more than an interval means the server clock
 * went back, and is ignored.
 */
export const CLAIM_RUN = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1, 0}
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
${NOW_MS}
local interval = tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[2]))
if last and last - now > interval then
  last = nil
end
if last and now < last + interval then
  return {0, last + interval - now}
end
local slot = now
if last and now < last + 2 * interval then
  slot = last + interval
end
redis.call('SET', KEYS[2], string.format('%d', slot), 'PX', string.format('%d', 2 * interval))
return {1, slot + interval - now, slot}`;

/**
 * KEYS: lock, slot. ARGV: lease, ttl ms, slot ms, term, grace ms, catch up (1 or 0), keep ms,
 * since last ms (0 when slotted), schedule ('' when none).
 * Every reply but {-1, 0} ends with the schedule recorded with the last slot ('' when none; a
 * claim that runs records its own) and this server's now, on which the caller reads its slots.
 * Claims one slot of a schedule, identified by its instant (epoch ms): the caller computed it on
 * its own clock, so the server checks it against its own. Renews the lease like CLAIM_RUN.
 * Returns {-1, 0} when the lease is not the caller's; {0, last slot} when a later slot was
 * claimed, or this one by another term (the caller cannot know whether it ran); {2, wait ms} when the slot is still in the future on this server's clock (a caller
 * whose clock is ahead does not run early); {3, ms late} when it fell due more than the grace ago
 * and is not caught up (catch up runs it only when a last claimed slot is remembered: an earlier
 * slot ran, so this one fell due while nobody led; a first deploy does not run old slots); else
 * {1, 0}: the slot and the term are recorded, for keep ms, and the caller may run it. A slot this
 * term claimed already is claimed again as if it were not (an answer lost, or one the caller could
 * not use): the term runs each slot at most once, and the caller remembers which it ran.
 * With a since-last period, the slot is this server's now, and {0, last slot} means a firing was
 * claimed less than that period ago (a last slot ahead of now by more than the period means the
 * clock went back, and is ignored).
 */
export const CLAIM_SLOT = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {-1, 0}
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
${NOW_MS}
local slot = tonumber(ARGV[3])
local recorded = redis.call('HMGET', KEYS[2], 'slot', 'term', 'schedule')
local last = tonumber(recorded[1])
local seen = recorded[3] or ''
local since = tonumber(ARGV[8])
if since > 0 then
  if last and last - now > since then
    last = nil
  end
  if last and now - last < since then
    return {0, last, seen, now}
  end
  slot = now
else
  if last and (slot < last or (slot == last and recorded[2] ~= ARGV[4])) then
    return {0, last, seen, now}
  end
  if slot > now then
    return {2, slot - now, seen, now}
  end
  if now - slot > tonumber(ARGV[5]) and not (ARGV[6] == '1' and last) then
    return {3, now - slot, seen, now}
  end
end
redis.call('HSET', KEYS[2], 'slot', string.format('%d', slot), 'term', ARGV[4])
if ARGV[9] == '' then
  redis.call('HDEL', KEYS[2], 'schedule')
else
  redis.call('HSET', KEYS[2], 'schedule', ARGV[9])
end
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return {1, 0, seen, now}`;

/**
 * KEYS: the node's presence key (`nodeKey`). ARGV: this process's instance token, ttl ms.
 * Sets the key to the token for ttl ms and returns the token it held before when that was another
 * (a second process with the same node id refreshed it meanwhile), else false (nil). Two such
 * processes take turns overwriting it, so each reads the other's token on its next refresh.
 */
export const NODE_PRESENCE = `local before = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if before and before ~= ARGV[1] then
  return before
end
return false`;
