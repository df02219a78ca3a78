-- Queues one message on a channel: prunes expired messages, checks capacity and adds, atomically
-- (channels_redis checks with ZCOUNT then adds in another round trip).
-- KEYS[1]  the channel's queue, a sorted set scored by send time in seconds (channels_redis format)
-- KEYS[2]  the owner-groups set of the channel: groups it joined through Switchyard
-- KEYS[3]  the registry of live Switchyard processes (hash of process queue key -> heartbeat ms)
-- ARGV[1]  payload (12 random bytes + serialized message)
-- ARGV[2]  now, unix seconds (float)
-- ARGV[3]  expiry, seconds (float)
-- ARGV[4]  capacity of the channel
-- ARGV[5]  TTL in ms for a queue whose channel is in groups (the group expiry, so expired messages stay
--          detectable); ARGV[6] TTL in ms otherwise (the message expiry)
-- ARGV[7]  channel name to remove from its groups when it had expired messages ('' for process queues)
-- ARGV[8]  group key prefix (`<prefix>:group:`)
-- ARGV[9]  capacity to use instead of ARGV[4] when KEYS[1] is a registered Switchyard process queue ('' never)
-- Returns  {1 if queued or 0 if the channel is full, number of expired messages pruned}
local now = tonumber(ARGV[2])
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - tonumber(ARGV[3])))
if expired > 0 and ARGV[7] ~= '' then
  -- Channels' spec: a channel whose message expired unread leaves every group.
  for _, group in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    redis.call('ZREM', ARGV[8] .. group, ARGV[7])
  end
  redis.call('DEL', KEYS[2])
end
local capacity = tonumber(ARGV[4])
if ARGV[9] ~= '' and redis.call('HEXISTS', KEYS[3], KEYS[1]) == 1 then
  -- A Switchyard process demultiplexes into per-channel buffers of their own capacity, so its shared queue
  -- gets a larger one (channels_redis makes every channel of a process share one capacity, redis#97).
  capacity = tonumber(ARGV[9])
end
if redis.call('ZCARD', KEYS[1]) >= capacity then
  return {0, expired}
end
redis.call('ZADD', KEYS[1], nextScore(KEYS[1], now), ARGV[1])
if ARGV[7] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
return {1, expired}
