-- Records the start of an attempt for each claimed task: counts the attempt unless the task already succeeded
-- (then it is reported, to be acked without running: idempotency).
-- KEYS[1..n]  task state hashes
-- ARGV[1]  now, ms
-- ARGV[2]  state TTL, ms
-- ARGV[3]  channel
-- ARGV[3 + i]  task id of KEYS[i]
-- Returns  {attempt, firstAttemptAt, alreadySucceeded (1|0)} per key, flattened
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'status') == 'succeeded' then
    table.insert(out, tonumber(redis.call('HGET', key, 'attempts') or '0'))
    table.insert(out, tonumber(redis.call('HGET', key, 'firstAttemptAt') or ARGV[1]))
    table.insert(out, 1)
  else
    local attempts = redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('HSETNX', key, 'firstAttemptAt', ARGV[1])
    redis.call('HSET', key, 'status', 'running', 'updatedAt', ARGV[1], 'channel', ARGV[3], 'taskId', ARGV[3 + i])
    redis.call('PEXPIRE', key, ARGV[2])
    table.insert(out, attempts)
    table.insert(out, tonumber(redis.call('HGET', key, 'firstAttemptAt')))
    table.insert(out, 0)
  end
end
return out
