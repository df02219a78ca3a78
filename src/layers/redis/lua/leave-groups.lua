-- Removes a channel from the groups it joined through Switchyard, one SSCAN step of its owner-groups set per call
-- (the caller loops until the cursor comes back '0'), so a channel in very many groups never blocks Redis: used
-- when a receive finds its message expired (Channels' spec: the channel leaves its groups).
-- KEYS[1]  the channel's owner-groups set
-- ARGV[1]  channel name
-- ARGV[2]  group key prefix (keys.ts `groupPrefix`): the groups are found in KEYS[1] as the script runs
-- ARGV[3]  SSCAN cursor, '0' to start
-- ARGV[4]  SSCAN COUNT (bounds the call's run time)
-- Returns  {next cursor, '0' once every group present at the start was left; number of groups left in this call}
local reply = redis.call('SSCAN', KEYS[1], ARGV[3], 'COUNT', ARGV[4])
for _, group in ipairs(reply[2]) do
  redis.call('ZREM', ARGV[2] .. group, ARGV[1])
  redis.call('SREM', KEYS[1], group)
end
return {reply[1], #reply[2]}
