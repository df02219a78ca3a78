-- Pushes the visibility deadline of claims this worker still holds (one call per worker tick), and removes any
-- TTL from the channel's queue: a busy worker claims nothing for a while, and a channels_redis send meanwhile
-- sets one (its expiry) that would take the waiting tasks with it.
-- KEYS[1]  in-flight set
-- KEYS[2]  stalled flags (sorted set)
-- KEYS[3]  the channel's queue
-- ARGV[1]  new deadline, ms
-- ARGV[2..n]  payloads
-- Returns  number of claims extended
redis.call('PERSIST', KEYS[3])
local extended = 0
for i = 2, #ARGV do
  extended = extended + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return extended
