-- Records the start of an attempt for each claimed task: counts the attempt unless the task already succeeded
-- (then it is reported, to be acked without running: idempotency).
-- KEYS[1]  the channel's queue, never touched: it only names where the script must run (a client or proxy that
--          routes a script by its first key, such as a Redis Cluster client, sends a keyless one anywhere). The
--          task state hashes are found in ARGV[5] as the script runs, each ARGV[4] .. its id, all on the channel's
--          shard (the caller runs the script there)
-- ARGV[1]  now, ms
-- ARGV[2]  state TTL, ms (only for a cancelled task: a started task's state keeps no TTL until it ends)
-- ARGV[3]  channel
-- ARGV[4]  task state key prefix (keys.ts `taskStatePrefix`)
-- ARGV[5]  the task ids, packed (packed-fields.ts: each a 4-byte big-endian length, then its bytes): one
--          argument rather than a key and an id per task, which cost the worker more to encode (issue 8)
-- Returns  {attempt, firstAttemptAt, alreadySucceeded (1|0, or 2: cancelled, not started; the worker drops its
--          claim and the state starts to expire)} per task id, flattened
local out = {}
local ids, pos = ARGV[5], 1
while pos <= #ids do
  local length = struct.unpack('>I4', ids, pos)
  local id = string.sub(ids, pos + 4, pos + 3 + length)
  pos = pos + 4 + length
  local key = ARGV[4] .. id
  local state = redis.call('HMGET', key, 'status', 'attempts', 'firstAttemptAt')
  if state[1] == 'cancelled' then
    redis.call('PEXPIRE', key, ARGV[2])
    table.insert(out, tonumber(state[2] or '0'))
    table.insert(out, tonumber(state[3] or ARGV[1]))
    table.insert(out, 2)
  elseif state[1] == 'succeeded' then
    table.insert(out, tonumber(state[2] or '0'))
    table.insert(out, tonumber(state[3] or ARGV[1]))
    table.insert(out, 1)
  else
    local attempts = redis.call('HINCRBY', key, 'attempts', 1)
    local first = state[3] or ARGV[1]
    redis.call('HSET', key, 'status', 'running', 'updatedAt', ARGV[1], 'channel', ARGV[3], 'taskId', id,
      'firstAttemptAt', first)
    -- Unfinished: no TTL however long it runs or waits (task-settle.lua sets one when it ends).
    redis.call('PERSIST', key)
    table.insert(out, attempts)
    table.insert(out, tonumber(first))
    table.insert(out, 0)
  end
end
return out
