-- Settles flow outbox entries after their flows were moved on (redis-flows.ts), each only if no step end was
-- recorded under it since it was read: a member re-added meanwhile (the same step settled again, or a dead step
-- replayed and succeeded) has a higher score and stays for the next sweep, so no step end is ever lost.
-- KEYS[1]  the flow outbox of this shard (keys.ts `flowOutbox`)
-- ARGV[1]  now, ms
-- ARGV[2..] triples: member (a step tag), the score it had when read, 'done' (its flow moved on: remove it) or
--          'again' (moving it on failed, e.g. the next step's channel is full: it goes to the back of the outbox,
--          scored now, so a sweep's batch is not taken up by the same stuck entries every time)
-- Returns  how many entries were removed
local removed = 0
for i = 2, #ARGV, 3 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    if ARGV[i + 2] == 'done' then
      removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
    elseif tonumber(ARGV[1]) > tonumber(score) then
      redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
    end
  end
end
return removed
