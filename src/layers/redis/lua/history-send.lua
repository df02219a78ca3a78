-- Sends a message to a history group (history/history-wire.ts): gives it the group's next position, keeps it in
-- the group's history, and delivers it: one compact copy per live Switchyard process, like group-send.lua, into
-- that process's queue key on this shard, whichever shard its queue hashes to (processes read their queue key on
-- every shard): so with several shards too, sequencing and delivery are one step, and members see offsets in
-- order. The payload's 12 random prefix bytes become its position (every reader strips them unread); its body
-- addresses the group's proxy member.
-- KEYS[1]  the group's Switchyard members (keys.ts `historyMembersName`: channels_redis' group format)
-- KEYS[2]  the group as channels_redis sees it: Django members and the proxy member
-- KEYS[3]  the registry of live Switchyard processes: hash of process queue key -> last heartbeat (ms)
-- KEYS[4]  the history: sorted set scored by offset, members `<sent ms>|<payload>`
-- KEYS[5]  the position: hash { epoch, offset }
-- ARGV[1]  the queue key prefix (keys.ts `queuePrefix`)
-- ARGV[2]  now, unix seconds (float); ARGV[3] now, ms
-- ARGV[4]  group expiry, ms (memberships older than this are pruned; TTL of KEYS[1] and KEYS[2])
-- ARGV[5]  a process whose heartbeat is this many ms old counts as dead
-- ARGV[6]  the payload (12 random bytes, then the body)
-- ARGV[7]  message expiry, seconds (float); ARGV[8] queue TTL, ms; ARGV[9] capacity of a process queue
-- ARGV[10] history size; ARGV[11] history TTL, ms; ARGV[12] position TTL, ms
-- ARGV[13] the epoch for a group that has none; ARGV[14] the proxy member
-- Returns  {offset, epoch, members reached, members dropped, {normal channel, ...} (the sequenced payload goes
--          to their queues), {queue key, {member, ...}, ...} for channels_redis-format copies without a position
--          (Django members, processes not known live)}
local now, nowMs = tonumber(ARGV[2]), tonumber(ARGV[3])
local groupExpiryMs = tonumber(ARGV[4])
local cutoff = tostring(now - groupExpiryMs / 1000)
local epoch = historyEpoch(KEYS[5], KEYS[4], ARGV[13], ARGV[12], true)
local offset = redis.call('HINCRBY', KEYS[5], 'offset', 1)
local payload = positionPrefix(offset, epoch) .. string.sub(ARGV[6], 13)
redis.call('ZADD', KEYS[4], offset, nowMs .. '|' .. payload)
trimHistory(KEYS[4], tonumber(ARGV[10]), nowMs - tonumber(ARGV[11]))
redis.call('PEXPIRE', KEYS[4], ARGV[11])
-- The proxy stays a member while Switchyard uses the group, so Django's group sends keep coming to be sequenced:
-- refreshed once a quarter of the group expiry has passed, not on every send (two replicated writes saved).
local proxyScore = redis.call('ZSCORE', KEYS[2], ARGV[14])
if proxyScore == false or tonumber(proxyScore) < now - groupExpiryMs / 4000 then
  redis.call('ZADD', KEYS[2], now, ARGV[14])
  redis.call('PEXPIRE', KEYS[2], groupExpiryMs)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
local plan = newClassification()
classifyMembers(redis.call('ZRANGE', KEYS[1], 0, -1), KEYS[3], ARGV[1], nowMs, tonumber(ARGV[5]), '', plan)
classifyMembers(redis.call('ZRANGE', KEYS[2], 0, -1), KEYS[3], ARGV[1], nowMs, tonumber(ARGV[5]), ARGV[14], plan)
local reached, dropped = deliverCompact(plan, payload, now, tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9]))
local plainOut, otherOut = {}, {}
for _, key in ipairs(plan.otherOrder) do
  local members = plan.others[key]
  if #members == 1 and string.find(members[1], '!', 1, true) == nil then
    table.insert(plainOut, members[1])
  else
    table.insert(otherOut, key)
    table.insert(otherOut, members)
  end
end
return {offset, epoch, reached, dropped, plainOut, otherOut}
