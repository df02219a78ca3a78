-- Removes a schedule (issue 17).
-- KEYS[1]  the schedule's hash (keys.ts `schedule`)
-- KEYS[2]  the schedule index, a sorted set of ids scored by next run ms (keys.ts `schedules`)
-- ARGV[1]  the schedule id
-- Returns  1 if it existed, else 0
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
