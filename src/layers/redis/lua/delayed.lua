-- Delayed messages. Mode 'add': schedules one payload (layer.send with delayMs). Mode 'move': moves every due
-- delayed message of up to 50 channels onto their queues (any live process runs it: delayed-mover.ts says when).
-- A delayed send is accepted or refused when it is made: at most ARGV[5] messages (delayed sends and task
-- retries) wait per channel; once due it joins the queue whatever its length, as it was accepted already.
-- KEYS[1]  the delayed index: channel -> earliest due time (ms)
-- KEYS[2]  add: the channel's delayed set (payload -> due ms)
-- KEYS[3]  add: the channel's task-channel marker (keys.ts `taskChannel`)
-- ARGV[1]  'add' | 'move'
-- ARGV[2]  now, ms (move) or due time, ms (add)
-- ARGV[3]  add: channel; move: the queue key prefix (keys.ts `queuePrefix`)
-- ARGV[4]  add: payload; move: the delayed set key prefix (keys.ts `delayedPrefix`)
-- ARGV[5]  add: the channel's capacity; move: the wake marker key prefix (keys.ts `wakePrefix`)
--          Move finds its channels in KEYS[1] as it runs, so it builds their keys: each prefix .. the channel.
-- ARGV[6]  add: '1' known task channel, '0' never one, '' ask KEYS[3]
-- ARGV[7]  add: task state key prefix (keys.ts `taskStatePrefix`)
-- ARGV[8]  add: the task id if the sender knows it, else ''
-- ARGV[9]  add: now, ms
-- Returns  add: 1, or 0 when ARGV[5] messages wait already; move: {messages moved, when the earliest delayed message
--          still waiting (on any channel) is due, ms, as a string; '' when none wait}: the mover sleeps until then
if ARGV[1] == 'add' then
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 0 end
  if ARGV[6] == '1' or (ARGV[6] == '' and redis.call('EXISTS', KEYS[3]) == 1) then
    recordQueuedTask(ARGV[7], ARGV[8], ARGV[4], ARGV[3], ARGV[9])
  end
  -- Equal due times would sort by payload bytes; nudge past the latest one due in the same millisecond.
  local due = tonumber(ARGV[2])
  local last = redis.call('ZREVRANGEBYSCORE', KEYS[2], '(' .. tostring(due + 1), due, 'WITHSCORES', 'LIMIT', 0, 1)[2]
  local score = due
  if last then score = tonumber(last) + 0.001 end
  redis.call('ZADD', KEYS[2], string.format('%.3f', score), ARGV[4])
  local current = redis.call('ZSCORE', KEYS[1], ARGV[3])
  if not current or tonumber(current) > tonumber(ARGV[2]) then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3]) end
  return 1
end
local now = tonumber(ARGV[2])
local queuePrefix, delayedPrefix, wakePrefix = ARGV[3], ARGV[4], ARGV[5]
local moved = 0
for _, channel in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 50)) do
  local delayed = delayedPrefix .. channel
  local queue = queuePrefix .. channel
  local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)
  for _, payload in ipairs(due) do
    redis.call('ZADD', queue, nextScore(queue, now / 1000), payload)
    redis.call('ZREM', delayed, payload)
    moved = moved + 1
  end
  -- A retry or delayed task come due wakes an idle worker of its channel.
  if #due > 0 then redis.call('ZADD', wakePrefix .. channel, 0, 'w') end
  local nextDue = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')[2]
  if nextDue then redis.call('ZADD', KEYS[1], nextDue, channel) else redis.call('ZREM', KEYS[1], channel) end
end
local earliest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
return {moved, earliest or ''}
