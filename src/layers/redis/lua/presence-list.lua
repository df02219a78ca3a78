-- A group's presence list in one call (issue 16), without its stale entries: those last joined ARGV[3] ms ago or
-- more, and those of a process (`specific.<id>!…`) whose heartbeat in the registry is missing or ARGV[2] ms old
-- or more. Read only: the caller prunes with presence-prune.lua when some were stale. The hash holds at most
-- maxPresence entries (presence-join.lua), so one call reads a bounded number of them, and the registry once per
-- process behind them.
-- KEYS[1]  the group's presence hash: channel -> `<joinedAt ms> <refreshedAt ms> <info JSON>`
-- KEYS[2]  the registry hash (process queue key -> last heartbeat, ms)
-- ARGV[1]  now, unix ms
-- ARGV[2]  staleAfterMs
-- ARGV[3]  groupExpiryMs
-- ARGV[4]  queue key prefix (keys.ts `queuePrefix`): a process's queue key is it and the non-local name
-- Returns  {stale count, channel, value, channel, value, …} for the live entries
local now, staleAfter, expiry = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local alive = {}
local reply = {0}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local channel, value = entries[i], entries[i + 1]
  local live = presenceLive(KEYS[2], ARGV[4], channel, value, now, staleAfter, expiry, alive)
  if live then
    reply[#reply + 1] = channel
    reply[#reply + 1] = value
  else
    reply[1] = reply[1] + 1
  end
end
return reply
