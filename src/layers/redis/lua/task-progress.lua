-- Keeps a running task's latest progress report in its state (issue 17): a finished, queued or unknown task is left
-- as it is, so a late report never reopens a task nor leaves a state hash without its retention TTL.
-- KEYS[1]  the task's state hash (keys.ts `taskState`)
-- ARGV[1]  the progress data, JSON
-- Returns  1 if it was stored, 0 if the task is not running
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[1])
return 1
