-- Removes expired memberships from groups: members whose last `groupAdd` is older than the group expiry (what
-- channels_redis' group_send skips but never deletes), at most ARGV[3] per call, so a group holding a million of
-- them is purged over several calls instead of blocking Redis. Redis deletes a group left empty. A plain channel
-- removed this way also leaves its owner-groups set (it is its owner's only member); a process's channels are
-- its own to forget (presence.ts, on its heartbeat).
-- KEYS[1..n]  group sorted sets (channel -> last add, unix seconds)
-- ARGV[1]     cutoff, unix seconds: members scored at or below it are removed
-- ARGV[2]     '1' to only count them (dry run), else '0'
-- ARGV[3]     most memberships to remove in this call
-- ARGV[4]     group key prefix (keys.ts `groupPrefix`)
-- ARGV[5]     owner-groups key prefix (keys.ts `ownerGroupsPrefix`)
-- Returns     {memberships removed (or that would be), number of leading KEYS finished: call again with the rest}
local removed, budget = 0, tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  local expired = redis.call('ZCOUNT', key, '-inf', ARGV[1])
  if ARGV[2] == '1' then
    removed = removed + expired
  else
    -- Expired members have the lowest scores: they are the first `expired` ranks.
    local take = math.min(expired, budget)
    if take > 0 then
      local group = string.sub(key, #ARGV[4] + 1)
      for _, member in ipairs(redis.call('ZRANGE', key, 0, take - 1)) do
        if not string.find(member, '!', 1, true) then
          redis.call('SREM', ARGV[5] .. member, group)
        end
      end
      redis.call('ZREMRANGEBYRANK', key, 0, take - 1)
      removed = removed + take
      budget = budget - take
    end
    if take < expired then
      return {removed, i - 1}
    end
  end
end
return {removed, #KEYS}
