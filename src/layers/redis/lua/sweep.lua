-- Finds dead Switchyard processes, one HSCAN step of the registry per call: a process whose heartbeat is older
-- than the stale limit moves from the registry to the sweeping hash, leased to the caller, atomically (exactly one
-- process claims it). Its members then leave their groups in bounded steps (sweep-process.lua): a process in a
-- million groups must not block Redis while one script walks them all (issue 14). Taken out of the registry, a
-- process that was only stalled finds its registration gone on its next heartbeat and re-adds its memberships.
-- KEYS[1]  the registry hash: process queue key -> last heartbeat (ms)
-- KEYS[2]  the sweeping hash: process queue key -> `<lease until, ms> <sweeper's queue key>` (keys.ts `sweeping`)
-- ARGV[1]  registry HSCAN cursor, '0' to start
-- ARGV[2]  now, ms
-- ARGV[3]  stale after, ms
-- ARGV[4]  HSCAN COUNT, for both hashes (bounds the call's run time)
-- ARGV[5]  the caller's own process queue key (never claimed; names the lease holder)
-- ARGV[6]  lease, ms: a sweep left this long (its sweeper died or stalled) is open to anyone
-- Returns  {next registry cursor, processes claimed, {process queue key, ...} the caller may sweep now: those
--          it holds and those whose lease ran out}
local now, stale = tonumber(ARGV[2]), tonumber(ARGV[3])
local lease = (now + tonumber(ARGV[6])) .. ' ' .. ARGV[5]
local reply = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[4])
local fields, claimed = reply[2], 0
for i = 1, #fields, 2 do
  local key, beat = fields[i], tonumber(fields[i + 1])
  if key ~= ARGV[5] and (beat == nil or now - beat >= stale) then
    redis.call('HDEL', KEYS[1], key)
    redis.call('HSET', KEYS[2], key, lease)
    claimed = claimed + 1
  end
end
local open, pending = redis.call('HSCAN', KEYS[2], '0', 'COUNT', ARGV[4])[2], {}
for i = 1, #open, 2 do
  local untilMs, holder = string.match(open[i + 1], '^(%d+) (.*)$')
  if untilMs == nil or holder == ARGV[5] or tonumber(untilMs) <= now then
    table.insert(pending, open[i])
  end
end
return {reply[1], claimed, pending}
