-- Puts in-flight claims back on the channel queue. Mode 'release': the given claims (a worker shutting down;
-- the attempt is not counted). Mode 'stalled': claims past their deadline that were already flagged at least
-- ARGV[4] ms earlier (a worker that died); the first check only flags them, so a live worker whose renewal was
-- late keeps its work, however many workers run checks.
-- KEYS[1]  in-flight set   KEYS[2]  stalled flags (payload -> time first flagged, ms)   KEYS[3]  channel queue
-- KEYS[4]  the channel's wake marker: touched when anything went back, so an idle worker takes it at once
-- ARGV[1]  'release' | 'stalled'
-- ARGV[2]  now, ms
-- ARGV[3]  task state key prefix (keys.ts `taskStatePrefix`; release: each task state's attempt count is given back)
-- ARGV[4..n]  release: claim, task id, claim, task id, ... (claim = 16-byte token .. payload); stalled: ARGV[4] the grace between phases, ms
-- Returns  number of messages put back
local now = tonumber(ARGV[2])
local moved = 0
if ARGV[1] == 'release' then
  for i = 4, #ARGV, 2 do
    if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
      redis.call('ZREM', KEYS[2], ARGV[i])
      redis.call('ZADD', KEYS[3], nextScore(KEYS[3], now / 1000), string.sub(ARGV[i], 17))
      local state = ARGV[3] .. ARGV[i + 1]
      -- A task that already succeeded elsewhere stays succeeded (its requeued copy will be acked unrun); a
      -- cancelled one stays cancelled (its copy is dropped when claimed: task-settle.lua).
      local status = redis.call('HGET', state, 'status')
      if status ~= 'succeeded' and status ~= 'cancelled' then
        redis.call('HINCRBY', state, 'attempts', -1)
        redis.call('HSET', state, 'status', 'queued', 'updatedAt', ARGV[2])
      end
      moved = moved + 1
    end
  end
  if moved > 0 then redis.call('ZADD', KEYS[4], 0, 'w') end
  return moved
end
local grace = tonumber(ARGV[4])
for _, payload in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)) do
  local flagged = redis.call('ZSCORE', KEYS[2], payload)
  if not flagged then
    redis.call('ZADD', KEYS[2], now, payload)
  elseif now - tonumber(flagged) >= grace then
    redis.call('ZREM', KEYS[1], payload)
    redis.call('ZREM', KEYS[2], payload)
    redis.call('ZADD', KEYS[3], nextScore(KEYS[3], now / 1000), string.sub(payload, 17))
    moved = moved + 1
  end
end
if moved > 0 then redis.call('ZADD', KEYS[4], 0, 'w') end
return moved
