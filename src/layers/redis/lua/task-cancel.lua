-- Cancels a task (task-cancellation.ts): a queued, retrying (delayed) or running task's state becomes
-- `cancelled`. Its message is not looked for in the queues (they are scored by time, not indexed by id): the
-- claiming script skips it (task-settle.lua, task-start.lua), a worker running it sees the state on its next
-- renewal tick and aborts, and its settlement records nothing (never retried, never dead-lettered). The state
-- keeps no TTL until its message is dropped (then ARGV[2]), so it cannot expire while the message still waits.
-- KEYS[1]  the task state hash (keys.ts `taskState`; on one shard, the caller tries each)
-- ARGV[1]  now, ms
-- Returns  the status before the call, or '' for an unknown task (nothing recorded); a succeeded, dead or
--          already cancelled task is left as it is
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status == 'queued' or status == 'running' or status == 'retrying' then
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'updatedAt', ARGV[1])
  redis.call('PERSIST', KEYS[1])
end
return status
