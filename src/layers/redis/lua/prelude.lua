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

-- Group members by where their copies go (group-send.lua, history-send.lua): live Switchyard processes get one
-- compact copy per process queue (`nodeCount[queue]` members behind it, in `nodeOrder`); everyone else (normal
-- channels, Django processes, processes not known live) gets channels_redis' format, per queue (`others[queue]`
-- lists its members, in `otherOrder`). `skip` is a member to leave out ('' for none).
local function classifyMembers(members, registry, queuePrefix, nowMs, staleMs, skip, into)
  local live, nodeCount, nodeOrder, others, otherOrder = into.live, into.nodeCount, into.nodeOrder, into.others, into.otherOrder
  -- A process's members share its non-local prefix (`specific.<id>!`), and come in runs (all of one server's, or
  -- joined in a row): a member that starts with the last live process's prefix is counted in that run, at one
  -- comparison instead of a substring, a key and two lookups (a fifth to a third less Redis time per group send).
  local runPrefix, runKey, run = nil, nil, 0
  for _, member in ipairs(members) do
    if member ~= skip then
      if runPrefix ~= nil and string.find(member, runPrefix, 1, true) == 1 then
        run = run + 1
      else
        local bang = string.find(member, '!', 1, true)
        local key = queuePrefix .. (bang and string.sub(member, 1, bang) or member)
        local isNode = false
        if bang then
          if live[key] == nil then
            local beat = redis.call('HGET', registry, key)
            live[key] = beat ~= false and (nowMs - tonumber(beat)) < staleMs
          end
          isNode = live[key]
        end
        if isNode then
          if runKey ~= nil then nodeCount[runKey] = nodeCount[runKey] + run end
          if nodeCount[key] == nil then
            nodeCount[key] = 0
            table.insert(nodeOrder, key)
          end
          runPrefix, runKey, run = string.sub(member, 1, bang), key, 1
        else
          if others[key] == nil then
            others[key] = {}
            table.insert(otherOrder, key)
          end
          table.insert(others[key], member)
        end
      end
    end
  end
  if runKey ~= nil then nodeCount[runKey] = nodeCount[runKey] + run end
  return into
end

local function newClassification()
  return {live = {}, nodeCount = {}, nodeOrder = {}, others = {}, otherOrder = {}}
end

-- Adds one compact copy to each live process queue that has room; returns members reached and dropped.
local function deliverCompact(plan, payload, now, expirySeconds, queueTtlMs, capacity)
  local cutoff = tostring(now - expirySeconds)
  local reached, dropped = 0, 0
  for _, key in ipairs(plan.nodeOrder) do
    redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
    if redis.call('ZCARD', key) < capacity then
      redis.call('ZADD', key, nextScore(key, now), payload)
      redis.call('PEXPIRE', key, queueTtlMs)
      reached = reached + plan.nodeCount[key]
    else
      dropped = dropped + plan.nodeCount[key]
    end
  end
  return reached, dropped
end

-- History (history-send.lua, history-join.lua, history-read.lua). A group's position hash holds its `epoch` and
-- its latest `offset`; a group without one gets `candidate` at offset 0, and loses any history left from before,
-- whose offsets belonged to the lost epoch. A send or a join (`extend`) renews the position's TTL; a read only
-- sets it on a position it had to start.
local function historyEpoch(positionKey, historyKey, candidate, ttlMs, extend)
  local epoch = redis.call('HGET', positionKey, 'epoch')
  if epoch == false then
    epoch = candidate
    redis.call('HSET', positionKey, 'epoch', epoch, 'offset', 0)
    redis.call('DEL', historyKey)
    extend = true
  end
  if extend then
    redis.call('PEXPIRE', positionKey, ttlMs)
  end
  return epoch
end

-- Keeps the last `size` messages, none sent at or before `cutoffMs` (members are `<sent ms>|<payload>`).
local function trimHistory(historyKey, size, cutoffMs)
  redis.call('ZREMRANGEBYRANK', historyKey, 0, -(size + 1))
  while true do
    local oldest = redis.call('ZRANGE', historyKey, 0, 0)[1]
    if oldest == nil then return end
    local bar = string.find(oldest, '|', 1, true)
    if tonumber(string.sub(oldest, 1, bar - 1)) > cutoffMs then return end
    redis.call('ZREMRANGEBYRANK', historyKey, 0, 0)
  end
end

-- The 12-byte prefix of a sequenced payload: offset as 6 bytes big-endian, then the 6-character epoch.
local function positionPrefix(offset, epoch)
  local bytes, n = {}, offset
  for i = 6, 1, -1 do
    bytes[i] = n % 256
    n = math.floor(n / 256)
  end
  return string.char(bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6]) .. epoch
end

-- Kept payloads after `offset`, oldest first, at most `limit` ('' for all); the `<sent ms>|` prefix stripped.
local function historyAfter(historyKey, offset, limit)
  local entries
  if limit == '' then
    entries = redis.call('ZRANGEBYSCORE', historyKey, '(' .. offset, '+inf')
  else
    entries = redis.call('ZRANGEBYSCORE', historyKey, '(' .. offset, '+inf', 'LIMIT', 0, limit)
  end
  for i, entry in ipairs(entries) do
    entries[i] = string.sub(entry, string.find(entry, '|', 1, true) + 1)
  end
  return entries
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
