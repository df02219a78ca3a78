-- Changes one chain or chord record (flow-driver.ts), by ARGV[1]:
--   'create'  stores a running flow unless one with this id exists: ARGV[2] kind, ARGV[3] spec (JSON), ARGV[4] now (ms)
--             Returns {kind, spec, status, createdAt, updatedAt} of the stored flow (this one or the earlier)
--   'mark'    marks a chord's step ARGV[2] succeeded, once however often called (a redelivered step's second ack
--             must not count twice). Returns how many steps are marked
--   'finish'  ends a running flow: ARGV[2] status (succeeded | dead | cancelled), ARGV[3] now (ms), ARGV[4] how
--             long the ended record is kept (ms, taskStateRetentionMs); an ended flow stays as it is. Returns 1 if
--             it ended it here, else 0
-- KEYS[1]  the flow hash (keys.ts `flow`): { kind, spec, status, createdAt, updatedAt, done, done:<index> }
-- A running flow keeps no TTL, as an unfinished task's state does.
local mode = ARGV[1]
if mode == 'create' then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('HSET', KEYS[1], 'kind', ARGV[2], 'spec', ARGV[3], 'status', 'running', 'createdAt', ARGV[4],
      'updatedAt', ARGV[4], 'done', 0)
  end
  return redis.call('HMGET', KEYS[1], 'kind', 'spec', 'status', 'createdAt', 'updatedAt')
elseif mode == 'mark' then
  if redis.call('HSETNX', KEYS[1], 'done:' .. ARGV[2], 1) == 1 then
    return redis.call('HINCRBY', KEYS[1], 'done', 1)
  end
  return tonumber(redis.call('HGET', KEYS[1], 'done') or '0')
elseif mode == 'finish' then
  if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updatedAt', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 1
end
return redis.error_reply('flow-update.lua: unknown mode ' .. tostring(mode))
