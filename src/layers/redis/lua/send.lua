-- Queues one message on a channel: prunes expired messages, checks capacity and adds, atomically
-- (channels_redis checks with ZCOUNT then adds in another round trip).
-- KEYS[1]  the channel's queue, a sorted set scored by send time in seconds (channels_redis format)
-- KEYS[2]  the owner-groups set of the channel: groups it joined through Switchyard
-- KEYS[3]  the registry of live Switchyard processes (hash of process queue key -> heartbeat ms)
-- KEYS[4]  the channel's task-channel marker (keys.ts `taskChannel`): present once a worker served it
-- KEYS[5]  the channel's wake marker (a sorted set of one member idle workers block on)
-- ARGV[1]  payload (12 random bytes + serialized message)
-- ARGV[2]  now, unix seconds (float)
-- ARGV[3]  expiry, seconds (float)
-- ARGV[4]  capacity of the channel
-- ARGV[5]  TTL in ms for a queue whose channel is in groups (the group expiry, so expired messages stay
--          detectable); ARGV[6] TTL in ms otherwise (the message expiry)
-- ARGV[7]  channel name to remove from its groups when it had expired messages ('' for process queues)
-- ARGV[8]  group key prefix (keys.ts `groupPrefix`)
-- ARGV[9]  capacity to use instead of ARGV[4] when KEYS[1] is a registered Switchyard process queue ('' never)
-- ARGV[10] '1' when this sender knows the channel is a task channel (its `taskChannels`), '0' when it cannot be
--          one (a process-specific channel), '' to ask KEYS[4]
-- ARGV[11] task state key prefix (keys.ts `taskStatePrefix`)      ARGV[12] the channel name (for the task state)
-- ARGV[13] the task id when the sender knows it (the message's idempotencyKey), else '' (prelude.lua
--          `recordQueuedTask` derives it from the payload)
-- ARGV[14] now, ms
-- ARGV[15] a flow step's tag (`<flow id> <index>`, flow-spec.ts), or '': the step is queued only if no task with
--          its id (ARGV[13]) is known, and its state carries the tag (task-settle.lua tells the flow of its end).
--          The check and the send are one step, so a step is sent once however many workers advance its flow.
-- A task channel's messages are tasks: nothing expires them here (only a worker's claim, past taskExpiryMs, into
-- the dead letters), the queue keeps no TTL (one channels_redis set is removed), and the task reads `queued`.
-- Returns  {1 if queued, 0 if the channel is full (2: a flow step whose task is known, not sent again), number of expired messages pruned, the capacity applied:
--          ARGV[9] for a registered process queue, else ARGV[4]} (a refused sender names the limit that refused it)
if ARGV[10] == '1' or (ARGV[10] == '' and redis.call('EXISTS', KEYS[4]) == 1) then
  if ARGV[15] ~= '' and redis.call('EXISTS', ARGV[11] .. ARGV[13]) == 1 then return {2, 0, tonumber(ARGV[4])} end
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
    return {0, 0, tonumber(ARGV[4])}
  end
  redis.call('ZADD', KEYS[1], nextScore(KEYS[1], tonumber(ARGV[2])), ARGV[1])
  redis.call('PERSIST', KEYS[1])
  if ARGV[10] == '1' then redis.call('SET', KEYS[4], '1') end
  recordQueuedTask(ARGV[11], ARGV[13], ARGV[1], ARGV[12], ARGV[14])
  if ARGV[15] ~= '' then redis.call('HSET', ARGV[11] .. ARGV[13], 'flow', ARGV[15]) end
  redis.call('ZADD', KEYS[5], 0, 'w')
  return {1, 0, tonumber(ARGV[4])}
end
local now = tonumber(ARGV[2])
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - tonumber(ARGV[3])))
if expired > 0 and ARGV[7] ~= '' then
  -- Channels' spec: a channel whose message expired unread leaves every group.
  for _, group in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    redis.call('ZREM', ARGV[8] .. group, ARGV[7])
  end
  redis.call('DEL', KEYS[2])
end
local capacity = tonumber(ARGV[4])
if ARGV[9] ~= '' and redis.call('HEXISTS', KEYS[3], KEYS[1]) == 1 then
  -- A Switchyard process demultiplexes into per-channel buffers of their own capacity, so its shared queue
  -- gets a larger one (channels_redis makes every channel of a process share one capacity, redis#97).
  capacity = tonumber(ARGV[9])
end
if redis.call('ZCARD', KEYS[1]) >= capacity then
  return {0, expired, capacity}
end
redis.call('ZADD', KEYS[1], nextScore(KEYS[1], now), ARGV[1])
if ARGV[7] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
return {1, expired, capacity}
