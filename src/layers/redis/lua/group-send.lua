-- Plans a group send, and delivers it to live Switchyard processes in the same call: one compact copy per
-- process queue, whatever the number of its members (it fans out locally), into that process's queue key on this
-- shard, whichever shard its queue hashes to (processes read their queue key on every shard). channels_redis
-- copies every member's name into every message instead.
-- KEYS[1]  the group (sorted set of channel names scored by last add, seconds)
-- KEYS[2]  the registry of live Switchyard processes: hash of process queue key -> last heartbeat (ms)
-- ARGV[1]  the queue key prefix (keys.ts `queuePrefix`): a member's queue is it .. the member's non-local name
-- ARGV[2]  now, unix seconds (float)
-- ARGV[3]  group expiry, seconds (float)
-- ARGV[4]  now, ms
-- ARGV[5]  a process whose heartbeat is this many ms old counts as dead
-- ARGV[6]  compact payload for Switchyard processes
-- ARGV[7]  message expiry, seconds (float); ARGV[8] message expiry, ms (queue TTL)
-- ARGV[9]  capacity of a process queue
-- Returns  {members reached, members dropped (full queue), {queue key, {member, ...}, ...} for everyone else
--          (channels_redis-format delivery)}
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - tonumber(ARGV[3])))
local plan = classifyMembers(redis.call('ZRANGE', KEYS[1], 0, -1), KEYS[2], ARGV[1], tonumber(ARGV[4]),
  tonumber(ARGV[5]), '', newClassification())
local reached, dropped = deliverCompact(plan, ARGV[6], now, tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9]))
local otherOut = {}
for _, key in ipairs(plan.otherOrder) do
  table.insert(otherOut, key)
  table.insert(otherOut, plan.others[key])
end
return {reached, dropped, otherOut}
