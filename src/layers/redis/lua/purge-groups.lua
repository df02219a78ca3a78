-- Removes expired memberships from groups: members whose last `groupAdd` is older than the group expiry (what
-- channels_redis' group_send skips but never deletes). Redis deletes a group left empty.
-- KEYS[1..n]  group sorted sets (channel -> last add, unix seconds)
-- ARGV[1]     cutoff, unix seconds: members scored at or below it are removed
-- ARGV[2]     '1' to only count them (dry run), else '0'
-- Returns     the number of memberships removed (or that would be)
local removed = 0
for _, key in ipairs(KEYS) do
  if ARGV[2] == '1' then
    removed = removed + redis.call('ZCOUNT', key, '-inf', ARGV[1])
  else
    removed = removed + redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  end
end
return removed
