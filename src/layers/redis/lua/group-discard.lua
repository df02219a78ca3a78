-- Removes a channel from a group and, when it was its owner's last member there, the group from the owner's set:
-- otherwise the set keeps every group its owner ever joined, and a client choosing room names grows it at will
-- (issue 14).
-- KEYS[1]  the group, a sorted set of channel names (channels_redis format)
-- KEYS[2]  the owner-groups set of the channel's owner (keys.ts `ownerGroups`)
-- ARGV[1]  channel name
-- ARGV[2]  group name
-- ARGV[3]  '1' when the owner has no other member in the group (a plain channel is its own owner's only member;
--          a process knows its own channels), '0' when that is not known (the entry then stays)
-- Returns  1 if the channel was in the group, else 0
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[3] == '1' then
  redis.call('SREM', KEYS[2], ARGV[2])
end
return removed
