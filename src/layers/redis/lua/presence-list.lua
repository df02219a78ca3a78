-- One HSCAN step of reading a group's presence list (issue 16), without its stale entries: those last joined
-- ARGV[3] ms ago or more, and those of a process (`specific.<id>!…`) whose heartbeat in the registry is missing or
-- ARGV[2] ms old or more. Read only: the caller prunes with presence-prune.lua when some were stale. A step reads
-- about ARGV[6] entries, whatever the list's size (10 000 entries in one HGETALL held Redis 18 ms at the median,
-- 73 ms at p99 on a busy machine); the caller loops until the cursor comes back '0'.
-- KEYS[1]  the group's presence hash: channel -> `<joinedAt ms> <refreshedAt ms> <info JSON>`
-- KEYS[2]  the registry hash (process queue key -> last heartbeat, ms)
-- ARGV[1]  now, unix ms
-- ARGV[2]  staleAfterMs
-- ARGV[3]  groupExpiryMs
-- ARGV[4]  queue key prefix (keys.ts `queuePrefix`): a process's queue key is it and the non-local name
-- ARGV[5]  HSCAN cursor, '0' to start; ARGV[6] HSCAN COUNT
-- Returns  {next cursor ('0' when done), stale count, channel, value, channel, value, …} for the live entries seen
local now, staleAfter, expiry = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local alive = {}
local scanned = redis.call('HSCAN', KEYS[1], ARGV[5], 'COUNT', ARGV[6])
local reply = {scanned[1], 0}
local entries = scanned[2]
for i = 1, #entries, 2 do
  local channel, value = entries[i], entries[i + 1]
  local live = presenceLive(KEYS[2], ARGV[4], channel, value, now, staleAfter, expiry, alive)
  if live then
    reply[#reply + 1] = channel
    reply[#reply + 1] = value
  else
    reply[2] = reply[2] + 1
  end
end
return reply
