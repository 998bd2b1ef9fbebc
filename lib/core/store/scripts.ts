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
 * Sets the term key `key` (a Lua expression, KEYS[2] by default) to `term` (a Lua number),
 * expiring `TERM_KEY_LIFE_MS` after the server clock reaches it. Needs `now` (NOW_MS).
 */
export const SET_TERM = (term: string, key = 'KEYS[2]') =>
  `redis.call('SET', ${key}, string.format('%d', ${term}), 'PX', string.format('%d', math.max(${term} - now, 0) + ${TERM_KEY_LIFE_MS}))`;

/** What LEASES does for one item, and how many ARGV values each item takes. */
export const LEASE_OPS = {
  acquire: 'a',
  takeOver: 't',
  renew: 'r',
  claim: 'c',
  release: 'x',
} as const;
export const LEASE_ITEM_ARGS = 3;
/** The first reply value of an item that failed in Redis (the error is the second). */
export const LEASE_FAILED = 'failed';

/**
 * Every lease command of a node's turn, in one call (RedisStore batches them: one round trip for
 * thousands of elections). Costs one inner command per renewal or claim of a held lease.
 *
 * KEYS: two per item: the lock, then the term key (acquire, take over) or the last-run key (the
 * others).
 * ARGV[1]: the release channel; ARGV[2]: the connection channels' prefix (a lease's connection
 * token follows it). Then three per item: `op:ttl:interval:last` (LEASE_OPS, then whole ms, each
 * number '' when not given: the last slot when unknown), the lease, the election name. The numbers
 * share one value because each value costs the client more to encode than its digits do.
 * Returns three values per item:
 * - acquire: {1, term, 0} when taken, else {0, holder lease, remaining ttl ms}. The new term is
 *   the last one plus one, but never less than the server clock (ms): a Redis that restarted
 *   empty, or a replica promoted before it got the latest terms, must not hand out a term already
 *   given (only a clock set back, or a new master's clock behind the old one's, could).
 * - take over: as acquire, and it also takes a lease whose value carries a connection token (see
 *   lease.ts) with no subscriber on that token's channel: its holder's connection closed. Then
 *   the third value is 1. A holder that reconnected and subscribed again is never taken; PUBSUB
 *   NUMSUB runs in scripts on Redis 5 and later.
 * - renew: {1, 0, 0} when extended to ttl, else {0, 0, 0}.
 * - claim (renews too, so a master that ticks as often as it renews sends one command, not two):
 *   {-1, 0, 0} when the lease is not the caller's; {0, wait ms, 0} when this slot already ran;
 *   {1, ms to next slot, slot} when the caller may run now (the slot: ms on the server's clock).
 *   The last slot is the caller's own (`last`, the one its term claimed last), else the last-run
 *   key's. Slots stay on their grid unless a whole interval was missed; a last slot in the future
 *   by more than an interval means the server clock went back, and is ignored.
 * - release: {1, 0, 0} when deleted, and followers hear it on the channel at once; else {0, 0, 0}.
 *   It records `last` in the last-run key for the next master.
 * - any: {LEASE_FAILED, error, 0} when Redis refused the item's keys (WRONGTYPE, an ACL's NOPERM):
 *   that item fails alone, and the others of the call still go through. Any other error (READONLY
 *   from a demoted primary, OOM) fails the whole call, as a reply the client acts on; so does an
 *   item whose numbers are not whole ms (a caller's bug).
 *
 * The last-run key is written at a claim only when the lease is shorter than two intervals, or
 * carries a connection token. With a longer lease, a master that ends without releasing is
 * followed no sooner than a lease after its last claim, when a last-run key written then (it lives
 * two intervals) would have expired and the next master starts a new grid anyway; one that
 * releases records its last slot then. A lease with a token may be taken over within a poll of
 * its holder's crash: the next master goes on from the slot recorded.
 *
 * A renewal or claim sets the lock with XX and GET, one command, and puts back a value that was
 * not its own (a node that lost the lease) with the TTL that value carries (lease.ts): its holder
 * set no longer a TTL, so its lease in Redis only ever lengthens, by at most a lease of its own,
 * and it steps down on its own clock anyway. A value that carries none gets the caller's TTL.
 */
export const LEASES = `local replies = {}
local now
local function clock()
  if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return now
end
local function extend(lock, lease, ttl)
  local before = redis.call('SET', lock, lease, 'XX', 'PX', ttl, 'GET')
  if before == lease then
    return true
  end
  if before then
    -- Passed on as digits: a Lua number of 17 digits reaches SET as '1e+17', which it refuses,
    -- and the caller's value would stay in the lock.
    local carried = string.match(before, ':([1-9]%d*)$')
    if not carried or #carried > 14 then
      carried = ttl
    end
    redis.call('SET', lock, before, 'PX', carried)
  end
  return false
end
local function item(i)
  local lock, other = KEYS[2 * i - 1], KEYS[2 * i]
  local at = 2 + ${LEASE_ITEM_ARGS} * (i - 1)
  local op, ttl, interval, last = string.match(ARGV[at + 1], '^(%a):(%d*):(%d*):(%d*)$')
  if not op then
    error('LEASES: an item whose numbers are not whole ms: ' .. ARGV[at + 1])
  end
  local lease = ARGV[at + 2]
  local a, b, c = 0, 0, 0
  if op == '${LEASE_OPS.acquire}' or op == '${LEASE_OPS.takeOver}' then
    local held = redis.call('GET', lock)
    local gone = false
    if held and op == '${LEASE_OPS.takeOver}' then
      local token = string.match(held, '@(%x+):%d+$')
      gone = token ~= nil and redis.call('PUBSUB', 'NUMSUB', ARGV[2] .. token)[2] == 0
    end
    if held and not gone then
      a, b, c = 0, held, redis.call('PTTL', lock)
    else
      redis.call('SET', lock, lease, 'PX', ttl)
      now = clock()
      local term = math.max((tonumber(redis.call('GET', other)) or 0) + 1, now)
      ${SET_TERM('term', 'other')}
      a, b = 1, term
      if gone then
        c = 1
      end
    end
  elseif op == '${LEASE_OPS.renew}' then
    if extend(lock, lease, ttl) then
      a = 1
    end
  elseif op == '${LEASE_OPS.claim}' then
    if not extend(lock, lease, ttl) then
      a = -1
    else
      now = clock()
      interval = tonumber(interval)
      last = tonumber(last) or tonumber(redis.call('GET', other))
      if last and last - now > interval then
        last = nil
      end
      if last and now < last + interval then
        b = last + interval - now
      else
        local slot = now
        if last and now < last + 2 * interval then
          slot = last + interval
        end
        if tonumber(ttl) < 2 * interval or string.find(lease, '@%x+:%d+$') then
          redis.call('SET', other, string.format('%d', slot), 'PX', string.format('%d', 2 * interval))
        end
        a, b, c = 1, slot + interval - now, slot
      end
    end
  elseif op == '${LEASE_OPS.release}' then
    if redis.call('GET', lock) == lease then
      if last ~= '' then
        redis.call('SET', other, last, 'PX', string.format('%d', 2 * tonumber(interval)))
      end
      redis.call('DEL', lock)
      redis.call('PUBLISH', ARGV[1], ARGV[at + 3])
      a = 1
    end
  end
  return a, b, c
end
for i = 1, #KEYS / 2 do
  local ok, a, b, c = pcall(item, i)
  if not ok then
    -- Redis 7 raises a table, 6.2 the message.
    local message = type(a) == 'table' and a.err or tostring(a)
    -- Only a refusal of this lease's keys fails it alone. Anything else (READONLY from a demoted
    -- primary, OOM, LOADING) fails the call, so that the client sees it and reconnects.
    if not (string.find(message, 'WRONGTYPE', 1, true) or string.find(message, 'NOPERM', 1, true)) then
      return redis.error_reply(message)
    end
    a, b, c = '${LEASE_FAILED}', message, 0
  end
  replies[3 * i - 2], replies[3 * i - 1], replies[3 * i] = a, b, c
end
return replies`;

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

/**
 * KEYS: the fleet hash (`fleetKey`). ARGV: node id, ttl ms (0 forgets the node), how many
 * balanced elections it leads, how many it takes part in, its group.
 * Records the node as `<expiry>:<beat at>:<leading>:<balanced>:<beats>:<group>` (times on the
 * server's clock; beats one more than its live record had, else 1), drops every record past its
 * expiry, and returns the live ones as a flat list: node id, leading, balanced, beats, ms since
 * its beat, group, and so on. The hash lives as long as its longest-lived record.
 */
export const FLEET = `${NOW_MS}
local pattern = '^(%d+):(%d+):(%d+):(%d+):(%d+):(.*)$'
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  local beats = 1
  local old = redis.call('HGET', KEYS[1], ARGV[1])
  if old then
    local expiry, _, _, _, seen = string.match(old, pattern)
    if expiry and tonumber(expiry) > now then
      beats = tonumber(seen) + 1
    end
  end
  redis.call('HSET', KEYS[1], ARGV[1], string.format('%d:%d:', now + ttl, now) .. ARGV[3] .. ':' .. ARGV[4] .. ':' .. beats .. ':' .. ARGV[5])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
local fields = redis.call('HGETALL', KEYS[1])
local live = {}
local longest = 0
for i = 1, #fields, 2 do
  local expiry, beatAt, leading, balanced, beats, group = string.match(fields[i + 1], pattern)
  if expiry and tonumber(expiry) > now then
    live[#live + 1] = fields[i]
    live[#live + 1] = leading
    live[#live + 1] = balanced
    live[#live + 1] = beats
    live[#live + 1] = string.format('%d', now - tonumber(beatAt))
    live[#live + 1] = group
    longest = math.max(longest, tonumber(expiry) - now)
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
if longest > 0 then
  redis.call('PEXPIRE', KEYS[1], longest)
end
return live`;
