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

-- A Switchyard send queued a task (send.lua, delayed.lua): its state reads `queued` under its id, the message's
-- idempotencyKey (`id`, when the sender knows it) or the first 32 hex digits of the SHA-1 of its payload, as
-- redis-claims.ts `taskIdOf` computes it. A task already known (succeeded, running, dead) keeps its state, so a
-- succeeded one is skipped when claimed. No TTL: an unfinished task's state lives as long as the task.
local function recordQueuedTask(statePrefix, id, payload, channel, nowMs)
  if id == '' then id = string.sub(redis.sha1hex(payload), 1, 32) end
  local state = statePrefix .. id
  if redis.call('EXISTS', state) == 0 then
    redis.call('HSET', state, 'status', 'queued', 'updatedAt', nowMs, 'channel', channel, 'taskId', id, 'attempts', 0)
  end
end

-- Whether a presence entry (presence-list.lua, presence-prune.lua) is live: joined less than `expiry` ms ago, and,
-- for a process's channel (`specific.<id>!…`), with that process's heartbeat in `registry` less than `staleAfter`
-- ms old. `alive` caches the registry per process for one call.
local function presenceLive(registry, queuePrefix, channel, value, now, staleAfter, expiry, alive)
  if now - tonumber(string.match(value, '^%d+ (%d+) ')) >= expiry then return false end
  local bang = string.find(channel, '!', 1, true)
  if not bang then return true end
  local queue = queuePrefix .. string.sub(channel, 1, bang)
  if alive[queue] == nil then
    local beat = redis.call('HGET', registry, queue)
    alive[queue] = beat ~= false and now - tonumber(beat) < staleAfter
  end
  return alive[queue]
end
