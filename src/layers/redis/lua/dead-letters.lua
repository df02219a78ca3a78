-- Dead letter maintenance. Mode 'replay': puts the given dead letters (all when none given) back on their
-- channel as fresh tasks (attempts reset). Mode 'purge': deletes dead letters that died before a cutoff.
-- KEYS[1]  the channel's dead letters (id -> died at, ms)
-- KEYS[2]  the channel queue
-- KEYS[3]  set of channels with dead letters
-- KEYS[4]  the channel's wake marker (replayed tasks wake an idle worker)
-- ARGV[1]  'replay' | 'purge'
-- ARGV[2]  now, ms (replay) or cutoff, ms (purge: died at or before)
-- ARGV[3]  task state key prefix (keys.ts `taskStatePrefix`)
-- ARGV[4]  channel
-- ARGV[5]  the channel's dead letter key prefix (keys.ts `deadLetterPrefix`): each letter is a hash, that .. id
-- ARGV[6..n]  replay: ids
-- Returns  number of dead letters replayed or purged
local ids
if ARGV[1] == 'purge' then
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
elseif #ARGV >= 6 then
  ids = {}
  for i = 6, #ARGV do table.insert(ids, ARGV[i]) end
else
  ids = redis.call('ZRANGE', KEYS[1], 0, -1)
end
local count = 0
for _, id in ipairs(ids) do
  local entry = ARGV[5] .. id
  if redis.call('ZREM', KEYS[1], id) == 1 then
    if ARGV[1] == 'replay' then
      local fields = redis.call('HMGET', entry, 'payload', 'taskId')
      if fields[1] then
        redis.call('ZADD', KEYS[2], nextScore(KEYS[2], tonumber(ARGV[2]) / 1000), fields[1])
        redis.call('ZADD', KEYS[4], 0, 'w')
        if fields[2] and fields[2] ~= '' then
          -- A fresh task under the same id: queued, attempts and failures start over.
          local state = ARGV[3] .. fields[2]
          redis.call('DEL', state)
          redis.call('HSET', state, 'status', 'queued', 'updatedAt', ARGV[2], 'channel', ARGV[4], 'taskId', fields[2],
            'attempts', 0)
        end
      end
    end
    redis.call('DEL', entry)
    count = count + 1
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[4]) end
return count
