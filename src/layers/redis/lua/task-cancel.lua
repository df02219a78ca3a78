-- Cancels a task (task-cancellation.ts): a queued, retrying (delayed) or running task's state becomes
-- `cancelled`. Its message is not looked for in the queues (they are scored by time, not indexed by id): the
-- claiming script skips it (task-settle.lua, task-start.lua), a worker running it sees the state on its next
-- renewal tick and aborts, and its settlement records nothing (never retried, never dead-lettered). The state
-- keeps no TTL until its message is dropped (then ARGV[2]), so it cannot expire while the message still waits.
-- A flow's step (its state carries a `flow` tag) also goes into the flow outbox, as task-settle.lua does when a
-- step ends: its flow ends `cancelled`.
-- KEYS[1]  the task state hash (keys.ts `taskState`; on one shard, the caller tries each)
-- KEYS[2]  the flow outbox of that shard (keys.ts `flowOutbox`)
-- ARGV[1]  now, ms
-- ARGV[2]  '' for a plain cancel; a channel to record an unknown task as cancelled on it (a flow step never sent,
--          flow-driver.ts `cancel`: the send that would come later skips a known task, send.lua)
-- ARGV[3]  with ARGV[2]: how long that record is kept (ms, taskStateRetentionMs)   ARGV[4] with ARGV[2]: the task id
-- Returns  the status before the call, or '' for an unknown task (nothing recorded unless ARGV[2]); a succeeded,
--          dead or already cancelled task is left as it is
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  if ARGV[2] ~= '' then
    redis.call('HSET', KEYS[1], 'status', 'cancelled', 'updatedAt', ARGV[1], 'channel', ARGV[2], 'taskId', ARGV[4],
      'attempts', 0)
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
  end
  return ''
end
if status == 'queued' or status == 'running' or status == 'retrying' then
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'updatedAt', ARGV[1])
  redis.call('PERSIST', KEYS[1])
  local tag = redis.call('HGET', KEYS[1], 'flow')
  if tag then
    local old = redis.call('ZSCORE', KEYS[2], tag)
    local score = tonumber(ARGV[1])
    if old and tonumber(old) >= score then score = tonumber(old) + 1 end
    redis.call('ZADD', KEYS[2], score, tag)
  end
end
return status
