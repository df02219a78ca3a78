-- Removes a channel from every group it joined through Switchyard: used when a receive finds its message
-- expired (Channels' spec: the channel leaves its groups).
-- KEYS[1]  the channel's owner-groups set
-- ARGV[1]  channel name
-- ARGV[2]  group key prefix
-- Returns  number of groups left
local groups = redis.call('SMEMBERS', KEYS[1])
for _, group in ipairs(groups) do
  redis.call('ZREM', ARGV[2] .. group, ARGV[1])
end
redis.call('DEL', KEYS[1])
return #groups
