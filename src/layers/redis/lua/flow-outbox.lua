-- Removes flow outbox entries whose flow has moved on (redis-flows.ts), each only if no step end was recorded
-- under it since it was read: a member re-added meanwhile (the same step settled again, or a dead step replayed
-- and succeeded) has a higher score and stays for the next sweep, so no step end is ever lost.
-- KEYS[1]  the flow outbox of this shard (keys.ts `flowOutbox`)
-- ARGV     pairs: member (a step tag), the score it had when read
-- Returns  how many entries were removed
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
