-- One bounded step of removing stale entries from a group's presence list (issue 16), by the rules of
-- presence-list.lua: HSCAN with COUNT ARGV[2] (and MATCH ARGV[7]), so a call visits about that many entries
-- whatever the list's size. The caller loops until the cursor is '0' and announces the channels removed.
-- KEYS[1]  the group's presence hash
-- KEYS[2]  the registry hash (process queue key -> last heartbeat, ms)
-- ARGV[1]  HSCAN cursor, '0' to start
-- ARGV[2]  HSCAN COUNT
-- ARGV[3]  now, unix ms
-- ARGV[4]  staleAfterMs
-- ARGV[5]  groupExpiryMs
-- ARGV[6]  queue key prefix (keys.ts `queuePrefix`)
-- ARGV[7]  HSCAN MATCH pattern: '*', or a dead process's non-local name, escaped, and '*'
-- Returns  {next cursor, removed channel, …}
local now, staleAfter, expiry = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local scan = redis.call('HSCAN', KEYS[1], ARGV[1], 'MATCH', ARGV[7], 'COUNT', ARGV[2])
local alive = {}
local reply = {scan[1]}
local found = scan[2]
for i = 1, #found, 2 do
  local channel, value = found[i], found[i + 1]
  local live = presenceLive(KEYS[2], ARGV[6], channel, value, now, staleAfter, expiry, alive)
  if not live then
    reply[#reply + 1] = channel
    redis.call('HDEL', KEYS[1], channel)
  end
end
return reply
