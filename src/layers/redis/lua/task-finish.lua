-- Ends an attempt: ack (succeeded), retry (back on the channel when due) or bury (dead letter). Only the
-- holder of the claim may retry or bury: a claim recovered as stalled belongs to whoever claims it next. An ack
-- always records success, so a recovered copy is skipped when claimed (idempotency).
-- KEYS[1]  in-flight set          KEYS[2]  stalled flags (sorted set)      KEYS[3]  task state hash
-- KEYS[4]  delayed set            KEYS[5]  delayed index          KEYS[6]  dead letters (id -> died at, ms)
-- KEYS[7]  the dead letter hash   KEYS[8]  set of channels with dead letters
-- ARGV[1]  'ack' | 'retry' | 'bury'
-- ARGV[2]  the claim (16-byte token .. payload)   ARGV[3]  now, ms   ARGV[4]  state TTL, ms
-- ARGV[5]  channel                ARGV[6]  error message ('' for ack)
-- ARGV[7]  retry: due time (ms); bury: the stack ('' if none); ack: the JSON result ('' if not stored)
-- ARGV[8]  bury: dead letter id   ARGV[9]  bury: dead letters kept per channel
-- Returns  1 if this call still held the claim, else 0
local held = redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
local action = ARGV[1]
if action == 'ack' then
  redis.call('HSET', KEYS[3], 'status', 'succeeded', 'updatedAt', ARGV[3], 'channel', ARGV[5])
  if ARGV[7] ~= '' then redis.call('HSET', KEYS[3], 'result', ARGV[7]) end
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
  return held
end
if held == 0 then return 0 end
local payload = string.sub(ARGV[2], 17)
if action == 'retry' then
  redis.call('ZADD', KEYS[4], ARGV[7], payload)
  local current = redis.call('ZSCORE', KEYS[5], ARGV[5])
  if not current or tonumber(current) > tonumber(ARGV[7]) then redis.call('ZADD', KEYS[5], ARGV[7], ARGV[5]) end
  redis.call('HSET', KEYS[3], 'status', 'retrying', 'updatedAt', ARGV[3], 'lastError', ARGV[6])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
  return 1
end
-- bury
local state = redis.call('HMGET', KEYS[3], 'attempts', 'firstAttemptAt', 'taskId')
redis.call('HSET', KEYS[7], 'payload', payload, 'error', ARGV[6], 'stack', ARGV[7], 'attempts', state[1] or '0',
  'firstAttemptAt', state[2] or ARGV[3], 'diedAt', ARGV[3], 'taskId', state[3] or '')
redis.call('ZADD', KEYS[6], ARGV[3], ARGV[8])
redis.call('SADD', KEYS[8], ARGV[5])
local overflow = redis.call('ZCARD', KEYS[6]) - tonumber(ARGV[9])
if overflow > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[6], 0, overflow - 1)) do
    redis.call('DEL', KEYS[6] .. ':' .. id)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[6], 0, overflow - 1)
end
redis.call('HSET', KEYS[3], 'status', 'dead', 'updatedAt', ARGV[3], 'lastError', ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1
