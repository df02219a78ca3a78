-- Pushes the visibility deadline of claims this worker still holds (one call per worker tick).
-- KEYS[1]  in-flight set
-- KEYS[2]  stalled flags (sorted set)
-- ARGV[1]  new deadline, ms
-- ARGV[2..n]  payloads
-- Returns  number of claims extended
local extended = 0
for i = 2, #ARGV do
  extended = extended + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return extended
