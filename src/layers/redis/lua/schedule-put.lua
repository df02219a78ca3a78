-- Creates or redefines a schedule (issue 17): its definition and next run, keeping a redefined one's last run.
-- KEYS[1]  the schedule's hash (keys.ts `schedule`): { spec (JSON), nextRunMs, lastRunMs }
-- KEYS[2]  the schedule index, a sorted set of ids scored by next run ms (keys.ts `schedules`)
-- ARGV[1]  the schedule id     ARGV[2]  the definition, JSON     ARGV[3]  next run, unix ms
-- Returns  1
redis.call('HSET', KEYS[1], 'spec', ARGV[2], 'nextRunMs', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
