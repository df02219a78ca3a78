-- Removes dead Switchyard processes: those whose heartbeat is older than the stale limit leave every group
-- (their members would otherwise linger until the group expiry, a day by default), and their queue and
-- registry entry go.
-- KEYS[1]  the registry hash: process queue key -> last heartbeat (ms)
-- ARGV[1]  now, ms
-- ARGV[2]  stale after, ms
-- ARGV[3]  key prefix
-- ARGV[4]  most processes to sweep in one call (bounds the script's run time)
-- ARGV[5]  the caller's own process queue key (never swept)
-- Returns  {processes swept, members removed}
local entries = redis.call('HGETALL', KEYS[1])
local now, stale, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local swept, removed = 0, 0
for i = 1, #entries, 2 do
  local key, beat = entries[i], tonumber(entries[i + 1])
  if key ~= ARGV[5] and (beat == nil or now - beat >= stale) then
    local nonLocal = string.sub(key, #prefix + 1)
    local owner = prefix .. ':switchyard:owner-groups:' .. nonLocal
    for _, group in ipairs(redis.call('SMEMBERS', owner)) do
      local groupKey = prefix .. ':group:' .. group
      for _, member in ipairs(redis.call('ZRANGE', groupKey, 0, -1)) do
        if string.sub(member, 1, #nonLocal) == nonLocal then
          redis.call('ZREM', groupKey, member)
          removed = removed + 1
        end
      end
    end
    redis.call('DEL', owner, key)
    redis.call('HDEL', KEYS[1], key)
    swept = swept + 1
    if swept >= tonumber(ARGV[4]) then break end
  end
end
return {swept, removed}
