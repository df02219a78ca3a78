-- Delivers one payload per queue, each with its own capacity, pruning expired messages first: the second
-- step of a group send (channels_redis-format copies, and compact copies on other shards).
-- KEYS[1..n]  queues (sorted sets scored by send time, seconds)
-- ARGV[1]  now, unix seconds (float)
-- ARGV[2]  message expiry, seconds (float)
-- ARGV[3]  queue TTL in ms; ARGV[4] queue TTL in ms when the channel is in groups
-- ARGV[5]  group key prefix (keys.ts `groupPrefix`); ARGV[6] owner-groups key prefix (keys.ts `ownerGroupsPrefix`):
--          the groups of a channel found in its owner-groups set as the script runs
-- ARGV[7 + 3(i-1)]  payload for KEYS[i]; ARGV[8 + 3(i-1)] its capacity; ARGV[9 + 3(i-1)] the channel to
--                   remove from its groups when it had expired messages ('' for process queues)
-- Returns  one status per key: 1 queued, 0 full, -1 skipped because the channel's messages expired (it left
--          its groups, Channels' spec)
local now = tonumber(ARGV[1])
local cutoff = tostring(now - tonumber(ARGV[2]))
local statuses = {}
for i, key in ipairs(KEYS) do
  local base = 7 + 3 * (i - 1)
  local channel = ARGV[base + 2]
  local expired = redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  local owner = ARGV[6] .. channel
  if expired > 0 and channel ~= '' then
    for _, group in ipairs(redis.call('SMEMBERS', owner)) do
      redis.call('ZREM', ARGV[5] .. group, channel)
    end
    redis.call('DEL', owner)
    statuses[i] = -1
  elseif redis.call('ZCARD', key) < tonumber(ARGV[base + 1]) then
    redis.call('ZADD', key, nextScore(key, now), ARGV[base])
    if channel ~= '' and redis.call('EXISTS', owner) == 1 then
      redis.call('PEXPIRE', key, ARGV[4])
    else
      redis.call('PEXPIRE', key, ARGV[3])
    end
    statuses[i] = 1
  else
    statuses[i] = 0
  end
end
return statuses
