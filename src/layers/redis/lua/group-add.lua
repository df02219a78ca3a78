-- Adds a channel to a group (or refreshes its membership) and records the group in its owner's set, so the
-- group can be cleaned when the channel's messages expire or its process dies.
-- KEYS[1]  the group, a sorted set of channel names scored by the last add in seconds (channels_redis format)
-- KEYS[2]  the owner-groups set: for `specific.x!local` the owner is `specific.x!`, else the channel itself
-- ARGV[1]  channel name
-- ARGV[2]  now, unix seconds (float)
-- ARGV[3]  group expiry, ms (TTL of both keys)
-- ARGV[4]  group name
-- Returns  1
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
