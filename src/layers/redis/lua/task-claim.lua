-- Claims up to N messages of a channel for at-least-once processing: first moves its due delayed messages
-- (retries, delayed sends) onto the queue, then pops from the queue into the in-flight set with a visibility
-- deadline, in one step so a worker dying between the two can never lose a message.
-- KEYS[1]  the channel queue (channels_redis sorted set, scored by send time in seconds)
-- KEYS[2]  the in-flight set: payload -> deadline (ms)
-- KEYS[3]  the channel's delayed set: payload -> due time (ms)
-- KEYS[4]  the delayed index: channel -> earliest due time (ms)
-- ARGV[1]  now, ms
-- ARGV[2]  most messages to claim
-- ARGV[3]  deadline for the claims, ms
-- ARGV[4]  channel name (member of the delayed index)
-- ARGV[5]  message expiry, seconds (float): older queued messages are dropped, never delivered (Channels' spec)
-- ARGV[6]  14 random bytes: with a 2-byte index they make each claim's 16-byte token, stored in front of the
--          payload in the in-flight set, so a claim recovered and claimed again is a different member (a late
--          worker's ack, retry or release cannot touch the new claim)
-- Returns  {number of expired messages dropped, claim, claim, ...} in queue order; claim = token .. payload
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, payload in ipairs(due) do
  redis.call('ZADD', KEYS[1], nextScore(KEYS[1], now / 1000), payload)
  redis.call('ZREM', KEYS[3], payload)
end
if #due > 0 then
  local nextDue = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')[2]
  if nextDue then redis.call('ZADD', KEYS[4], nextDue, ARGV[4]) else redis.call('ZREM', KEYS[4], ARGV[4]) end
end
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now / 1000 - tonumber(ARGV[5])))
local popped = redis.call('ZPOPMIN', KEYS[1], tonumber(ARGV[2]))
local claimed = {expired}
for i = 1, #popped, 2 do
  local n = (i - 1) / 2
  local claim = ARGV[6] .. string.char(math.floor(n / 256) % 256, n % 256) .. popped[i]
  redis.call('ZADD', KEYS[2], ARGV[3], claim)
  table.insert(claimed, claim)
end
return claimed
