-- Prepended to every script (lua-script.ts). Scores are send times in seconds, as channels_redis writes them;
-- two sends in the same millisecond would tie and then sort by their random payload bytes, so a queue's new
-- score is kept strictly above its newest one (by a microsecond), which keeps FIFO order.
local function nextScore(key, now)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]
  if newest ~= nil and tonumber(newest) >= now then
    now = tonumber(newest) + 0.000001
  end
  return string.format('%.6f', now)
end
