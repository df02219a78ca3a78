-- How long a channel's rate limit keeps claims from starting tasks: what a worker whose claim came back short
-- waits before claiming again, instead of polling (the log is the one task-settle.lua keeps). Reads only.
-- KEYS[1]  the channel's rate limit (hash max, perMs)   KEYS[2]  its sliding-window log (claim token -> start, ms)
-- Returns  ms until a claim may start a task (Redis' clock), 0 when one may now or there is no limit
local limit = redis.call('HMGET', KEYS[1], 'max', 'perMs')
if not limit[1] then return 0 end
local max, perMs = tonumber(limit[1]), tonumber(limit[2])
local time = redis.call('TIME')
local clock = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local starts = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. (clock - perMs), '+inf', 'WITHSCORES')
local count = #starts / 2
if count < max then return 0 end
-- A slot opens when the start `max` places from the newest leaves the window.
return math.max(tonumber(starts[2 * (count - max) + 2]) + perMs - clock, 1)
