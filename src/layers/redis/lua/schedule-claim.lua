-- Claims one due tick of a schedule (issue 17): a compare-and-set of its next run, so of all the workers that saw
-- the tick due, exactly one gets 1 and sends it; there is no leader. The caller computed the new next run.
-- KEYS[1]  the schedule's hash (keys.ts `schedule`): { spec (JSON), nextRunMs, lastRunMs }
-- KEYS[2]  the schedule index, a sorted set of ids scored by next run ms (keys.ts `schedules`)
-- ARGV[1]  the schedule id
-- ARGV[2]  the next run the caller read (unix ms): the claim fails if it changed (claimed, redefined, removed)
-- ARGV[3]  the new next run, unix ms
-- ARGV[4]  the tick fired (unix ms, the new last run), or '' when a late tick is skipped (catchUp 'none')
-- Returns  1 if claimed, else 0
if redis.call('HGET', KEYS[1], 'nextRunMs') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'nextRunMs', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'lastRunMs', ARGV[4]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
