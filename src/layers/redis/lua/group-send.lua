-- Plans a group send, and delivers it to live Switchyard processes in the same call: one compact copy per
-- process queue, whatever the number of its members (it fans out locally). channels_redis copies every
-- member's name into every message instead.
-- KEYS[1]  the group (sorted set of channel names scored by last add, seconds)
-- KEYS[2]  the registry of live Switchyard processes: hash of process queue key -> last heartbeat (ms)
-- ARGV[1]  the queue key prefix (keys.ts `queuePrefix`): a member's queue is it .. the member's non-local name
-- ARGV[2]  now, unix seconds (float)
-- ARGV[3]  group expiry, seconds (float)
-- ARGV[4]  now, ms
-- ARGV[5]  a process whose heartbeat is this many ms old counts as dead
-- ARGV[6]  compact payload for Switchyard processes; '' to return their queues instead of delivering
-- ARGV[7]  message expiry, seconds (float); ARGV[8] message expiry, ms (queue TTL)
-- ARGV[9]  capacity of a process queue
-- Returns  {members reached, members dropped (full queue), {process queue, member count, ...} when ARGV[6]
--          is '', {queue key, {member, ...}, ...} for everyone else (channels_redis-format delivery)}
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - tonumber(ARGV[3])))
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local nowMs, staleMs = tonumber(ARGV[4]), tonumber(ARGV[5])
local live, nodeCount, nodeOrder, others, otherOrder = {}, {}, {}, {}, {}
for _, member in ipairs(members) do
  local bang = string.find(member, '!', 1, true)
  local key = ARGV[1] .. (bang and string.sub(member, 1, bang) or member)
  local isNode = false
  if bang then
    if live[key] == nil then
      local beat = redis.call('HGET', KEYS[2], key)
      live[key] = beat ~= false and (nowMs - tonumber(beat)) < staleMs
    end
    isNode = live[key]
  end
  if isNode then
    if nodeCount[key] == nil then
      nodeCount[key] = 0
      table.insert(nodeOrder, key)
    end
    nodeCount[key] = nodeCount[key] + 1
  else
    if others[key] == nil then
      others[key] = {}
      table.insert(otherOrder, key)
    end
    table.insert(others[key], member)
  end
end
local reached, dropped, nodeOut, otherOut = 0, 0, {}, {}
if ARGV[6] ~= '' then
  local cutoff = tostring(now - tonumber(ARGV[7]))
  local capacity = tonumber(ARGV[9])
  for _, key in ipairs(nodeOrder) do
    redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
    if redis.call('ZCARD', key) < capacity then
      redis.call('ZADD', key, nextScore(key, now), ARGV[6])
      redis.call('PEXPIRE', key, ARGV[8])
      reached = reached + nodeCount[key]
    else
      dropped = dropped + nodeCount[key]
    end
  end
else
  for _, key in ipairs(nodeOrder) do
    table.insert(nodeOut, key)
    table.insert(nodeOut, nodeCount[key])
  end
end
for _, key in ipairs(otherOrder) do
  table.insert(otherOut, key)
  table.insert(otherOut, others[key])
end
return {reached, dropped, nodeOut, otherOut}
