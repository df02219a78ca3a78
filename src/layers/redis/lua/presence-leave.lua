-- Removes a channel from a group's presence list (issue 16).
-- KEYS[1]  the group's presence hash
-- ARGV[1]  channel name
-- Returns  1 if it was present, else 0
return redis.call('HDEL', KEYS[1], ARGV[1])
