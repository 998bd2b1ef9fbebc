/**
 * The Lua scripts only QuorumStore needs, on each server of the quorum (next to LEASES in
 * scripts.ts, whose acquire and release it also runs on every server).
 */
import { NOW_MS, SET_TERM } from './scripts.js';

/**
 * KEYS: lock, term. ARGV: lease, term. Returns 1 when `lease` holds the lock here.
 * Phase 2 of a quorum acquire: raises this server's term to the majority's, so that every later
 * majority (which shares a server with this one) counts on from it. The term may come from
 * another server's clock: its key here lasts until this server's clock has passed it.
 */
export const RAISE_TERM = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local term = tonumber(ARGV[2])
if (tonumber(redis.call('GET', KEYS[2])) or 0) < term then
  ${NOW_MS}
  ${SET_TERM('term')}
end
return 1`;

/**
 * KEYS: lock. ARGV: lease. Returns 1 when deleted.
 * Drops what a failed acquire took, without announcing it: no node waits on a lease that was never
 * held, and an announcement would send the contenders that split the servers back at the same time.
 */
export const DISCARD = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Extends the caller's lease (KEYS[1], ARGV[1], ttl ARGV[2]) where it stands (`taken` = 1), and
 * takes back a server where nobody holds it (`taken` = 2): a server the master lost for a while
 * (cut off, paused, restarted) would otherwise stay lost, and the master would lead on a bare
 * majority that one more fault breaks. A server taken back does not count towards the majority
 * that confirms the lease: a lease gone from a majority is never revived, only lost.
 */
const TAKE_BACK = `local current = redis.call('GET', KEYS[1])
local taken = 0
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  taken = 1
elseif not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  taken = 2
end`;

/**
 * KEYS: lock. ARGV: lease, ttl ms. Returns 1 when the lease was extended here, 2 when this server
 * was free and is taken back, 0 when another lease holds it.
 */
export const RENEW_OR_TAKE_BACK = `${TAKE_BACK}
return taken`;

/**
 * KEYS: lock, last run. ARGV: lease, ttl ms, interval ms.
 * First step of a quorum claim: renews the lease (or takes the server back) like
 * RENEW_OR_TAKE_BACK, and says how long ago the last run was marked, on this server's clock. It marks nothing: the quorum decides first.
 * Returns {-1, 0} when the lease is not the caller's, {-2, 0} when this server was free and is
 * taken back (not a holder's vote), {0, 0} when no run is marked (or the mark is in the future by
 * more than an interval: the clock went back), else {1, ms since the mark}.
 */
export const CLAIM_CHECK = `${TAKE_BACK}
if taken == 0 then
  return {-1, 0}
end
if taken == 2 then
  return {-2, 0}
end
${NOW_MS}
local last = tonumber(redis.call('GET', KEYS[2]))
if not last or last - now > tonumber(ARGV[3]) then
  return {0, 0}
end
return {1, now - last}`;

/**
 * KEYS: lock, last run. ARGV: lease, ms to date the mark back, interval ms.
 * Second step: marks the run, dated back to its slot on the grid. Returns the slot (ms on this
 * server's clock) when marked, else 0.
 */
export const CLAIM_MARK = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
${NOW_MS}
local slot = now - tonumber(ARGV[2])
redis.call('SET', KEYS[2], string.format('%d', slot), 'PX', string.format('%d', 2 * tonumber(ARGV[3])))
return slot`;

/**
 * KEYS: lock, slot. ARGV: lease, ttl ms, slot ms.
 * First step of a quorum slot claim: renews the lease (or takes the server back) like
 * RENEW_OR_TAKE_BACK, and reads the last claimed slot and how late the slot is on this server's
 * clock. It marks nothing: the quorum decides first.
 * Returns {-1, 0, 0, 0, 0, ''} when the lease is not the caller's, {-2, 0, 0, 0, 0, ''} when this
 * server was free and is taken back (not a holder's vote), else {1, last claimed slot or 0 when
 * none, ms late (negative while the slot is in the future), ms since the last claimed slot, the
 * term that claimed it or 0, the schedule recorded with it or ''}.
 */
export const SLOT_CHECK = `${TAKE_BACK}
if taken == 0 then
  return {-1, 0, 0, 0, 0, ''}
end
if taken == 2 then
  return {-2, 0, 0, 0, 0, ''}
end
${NOW_MS}
local recorded = redis.call('HMGET', KEYS[2], 'slot', 'term', 'schedule')
local last = tonumber(recorded[1]) or 0
return {1, last, now - tonumber(ARGV[3]), now - last, recorded[2] or 0, recorded[3] or ''}`;

/**
 * KEYS: lock, slot. ARGV: lease, slot ms, term, keep ms, since last ms (0 when slotted), schedule
 * ('' when none).
 * Second step: records the slot, the term and the schedule. Returns 1 when recorded (or recorded already by
 * this term), 2 when this server has a later slot, or this one by another term, 0 when the lease
 * is not the caller's. With a since-last
 * period, the slot recorded is this server's now, and 2 means one was recorded less than that
 * period ago on its clock.
 */
export const SLOT_MARK = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local slot = tonumber(ARGV[2])
local recorded = redis.call('HMGET', KEYS[2], 'slot', 'term')
local last = tonumber(recorded[1])
local since = tonumber(ARGV[5])
if since > 0 then
  ${NOW_MS}
  if last and now - last < since and last - now <= since then
    return 2
  end
  slot = now
elseif last and (last > slot or (last == slot and recorded[2] ~= ARGV[3])) then
  return 2
end
redis.call('HSET', KEYS[2], 'slot', string.format('%d', slot), 'term', ARGV[3])
if ARGV[6] == '' then
  redis.call('HDEL', KEYS[2], 'schedule')
else
  redis.call('HSET', KEYS[2], 'schedule', ARGV[6])
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1`;
